package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

// CheckError is one check's failure as CheckServer returns it, joined with
// the others. Its message names the check ID, its level and its requirement,
// then gives the diagnosis (spec.Failure.Report). errors.As reaches both the
// *CheckError and the *spec.Failure it wraps.
type CheckError struct {
	Result Result
}

// Error returns the multi-line message: "ID (LEVEL) failed: requirement",
// then the indented diagnosis.
func (e *CheckError) Error() string {
	r := e.Result
	var b strings.Builder
	verb := "failed"
	switch r.Status {
	case engine.StatusError:
		verb = "could not run"
	case engine.StatusWarn:
		verb = "failed (warning only: the run is not strict)"
	case engine.StatusUnjudged:
		verb = "could not be judged (the server did not serve the check's traffic correctly)"
		if r.Check.Needs == spec.NeedsClient {
			verb = "could not be judged (the client did not carry out the check's exchange)"
		}
	}
	fmt.Fprintf(&b, "%s (%s) %s: %s", r.Check.ID, r.Check.Level, verb, r.Check.Requirement)
	var body string
	if f := r.Failure(); f != nil {
		body = render.FailureReport(r, f) // a client check counts bytes from the client's side
	} else if r.Err != nil {
		body = r.Err.Error()
	}
	if r.Flaky() {
		body += fmt.Sprintf("\nflaky: failed %d of %d runs", r.Failures, r.Runs)
	}
	if r.ServerDied != "" {
		body += "\nthe server died during this check: " + r.ServerDied
	}
	for _, line := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		if line != "" {
			b.WriteString("\n    ")
			b.WriteString(line)
		}
	}
	return b.String()
}

// Unwrap returns the check's error: a *spec.Failure when the server
// violated the requirement.
func (e *CheckError) Unwrap() error { return e.Result.Err }

// CheckServer checks the echo server listening at addr ("HOST:PORT") with
// the whole catalogue, or the checks that WithRun and WithSkip select, and
// returns nil when it is conformant. Otherwise it returns errors.Join of one
// *CheckError per check that failed or could not run, in catalogue order.
// Violated SHOULD requirements are left out unless WithStrict is given.
//
// It returns a plain error, not a *CheckError, when the checks could not run
// at all (a bad option or pattern). An unreachable server is not such an
// error: every check fails with a "refused" diagnosis.
func CheckServer(addr string, opts ...Option) error {
	return checkTarget(context.Background(), engine.Target{Addr: addr}, engine.Apply(opts...))
}

// checkTarget is CheckServer and CheckClient: errors.Join of a *CheckError
// per check of o that target fails.
func checkTarget(ctx context.Context, target engine.Target, o engine.Options) error {
	rep, err := engine.Run(ctx, target, o)
	if err != nil {
		return fmt.Errorf("echoconf: %w", err)
	}
	var errs []error
	for _, r := range rep.Results {
		if r.Status == engine.StatusFail || r.Status == engine.StatusError || (rep.Strict && r.Status == engine.StatusUnjudged) {
			errs = append(errs, &CheckError{Result: r})
		}
	}
	return errors.Join(errs...)
}
