package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echoconf/echoconf/spec"
)

// This file is the only one in package conformance that imports "testing":
// it adapts Run to "go test", as testing/slogtest and testing/fstest do.

// An Option tunes TestServer, CheckServer and the echoginkgo entry points.
// Each Option edits the Options that Run receives; later options win.
type Option func(*Options)

// WithRun selects checks by ID, with the globs of Options.Run
// ("halfclose/*", "*/large-*", or a bare category such as "halfclose").
// Several calls add up.
func WithRun(globs ...string) Option {
	return func(o *Options) { o.Run = append(o.Run, globs...) }
}

// WithSkip leaves out checks whose ID matches one of the globs, which take
// the same form as WithRun's. Several calls add up.
func WithSkip(globs ...string) Option {
	return func(o *Options) { o.Skip = append(o.Skip, globs...) }
}

// WithStrict makes a violated SHOULD requirement fail, as Options.Strict
// does. Without it such a violation is only a warning: TestServer logs it
// and CheckServer leaves it out of its error.
func WithStrict() Option {
	return func(o *Options) { o.Strict = true }
}

// WithTimeoutScale stretches every timeout of every check by scale, for
// slow machines or servers under a debugger or the race detector.
func WithTimeoutScale(scale float64) Option {
	return func(o *Options) { o.TimeoutScale = scale }
}

// WithSeed sets the seed every payload is derived from. The default seed is
// fixed, so runs repeat byte for byte unless the seed is changed.
func WithSeed(seed uint64) Option {
	return func(o *Options) { o.Seed = seed }
}

// WithRepeat runs each check n times; a check whose runs disagree is
// reported as flaky.
func WithRepeat(n int) Option {
	return func(o *Options) { o.Repeat = n }
}

// WithChecks replaces the catalogue (spec.All() by default) with checks.
func WithChecks(checks ...spec.Check) Option {
	return func(o *Options) { o.Checks = checks }
}

// NewOptions applies opts, in order, to the zero Options and returns the
// result; Run fills in the defaults for fields left zero.
func NewOptions(opts ...Option) Options {
	var o Options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// Selected returns the checks of o.Checks (spec.All() when nil) that o.Run
// and o.Skip select, in catalogue order, by the rules of Select. A malformed
// pattern, or one that matches no check, is an error, as it is for Run.
func Selected(o Options) ([]spec.Check, error) {
	checks := o.Checks
	if checks == nil {
		checks = spec.All()
	}
	sel, err := Select(checks, o.Run, o.Skip)
	if err != nil {
		return nil, err
	}
	var out []spec.Check
	for i, c := range checks {
		if sel[i] {
			out = append(out, c)
		}
	}
	return out, nil
}

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
	case StatusError:
		verb = "could not run"
	case StatusWarn:
		verb = "failed (warning only: the run is not strict)"
	case StatusUnjudged:
		verb = "could not be judged (the server did not serve the check's traffic correctly)"
	}
	fmt.Fprintf(&b, "%s (%s) %s: %s", r.Check.ID, r.Check.Level, verb, r.Check.Requirement)
	var body string
	if f := r.Failure(); f != nil {
		body = f.Report()
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
	o := NewOptions(opts...)
	rep, err := Run(context.Background(), Target{Addr: addr}, o)
	if err != nil {
		return fmt.Errorf("echoconf: %w", err)
	}
	var errs []error
	for _, r := range rep.Results {
		if r.Status == StatusFail || r.Status == StatusError || (rep.Strict && r.Status == StatusUnjudged) {
			errs = append(errs, &CheckError{Result: r})
		}
	}
	return errors.Join(errs...)
}

// deadlineMargin is how long before the test binary's -timeout TestServer
// stops the run, so that unfinished checks are reported, not a panic.
const deadlineMargin = 3 * time.Second

// TestServer checks the echo server listening at addr ("HOST:PORT") and
// reports each check as a subtest of t named by the check's ID. IDs contain a
// slash, so each subtest is nested in its category:
//
//	go test -run 'TestMyServer/halfclose'               # one category
//	go test -run 'TestMyServer/halfclose/small-pending' # one check
//	go test -run 'TestMyServer/(basic|partial)' -v      # two categories
//
// Each element of a -run pattern matches one level of the name, so
// 'TestMyServer/small-pending' matches nothing: give the category first
// ('TestMyServer/.*/small-pending').
//
// The selected checks run in one call of Run, so the engine's scheduling
// holds: checks run in parallel except the Exclusive ones, which run alone,
// and every check has its (scaled) watchdog. Results are reported in
// catalogue order as soon as they are known:
//
//   - a failure fails its subtest with the check's ID, level and requirement
//     and the diagnosis (spec.Failure.Report): byte counts, the ending event
//     and hex windows around the first differing byte;
//   - a violated SHOULD requirement is logged as a warning and does not fail
//     the subtest unless WithStrict is given;
//   - a check that does not apply (a process check against an address)
//     skips its subtest with the reason;
//   - a check the engine could not run fails its subtest.
//
// Subtest durations run from the start of the run to the check's result, not
// over the check alone. A bad option or pattern fails t itself. TestServer stops the run shortly
// before the test binary's -timeout so that slow checks are reported, not
// lost in a panic. It must be called from the goroutine running t, and
// returns when every subtest has finished.
func TestServer(t *testing.T, addr string, opts ...Option) {
	t.Helper()
	o := NewOptions(opts...)
	checks, err := Selected(o)
	if err != nil {
		t.Fatalf("echoconf: %v", err)
	}

	// Create the subtests first, one at a time in catalogue order, so that
	// "go test -run" decides which checks run. t.Run blocks until its
	// subtest returns, so each is called from its own goroutine; a subtest
	// that -run selects signals that it started and then waits for its
	// result. The subtests that did not start were filtered out.
	type pending struct {
		check  spec.Check
		final  chan Result  // from Progress: the check's final result
		result chan deliver // to the subtest, in catalogue order
		done   chan struct{}
	}
	var (
		wg       sync.WaitGroup
		selected []*pending
	)
	defer wg.Wait()
	for _, c := range checks {
		p := &pending{
			check:  c,
			final:  make(chan Result, 1),
			result: make(chan deliver, 1),
			done:   make(chan struct{}),
		}
		decided := make(chan bool, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(p.done)
			t.Run(c.ID, func(t *testing.T) {
				decided <- true
				reportResult(t, <-p.result)
			})
			select {
			case decided <- false:
			default:
			}
		}()
		if <-decided {
			selected = append(selected, p)
		}
	}
	if len(selected) == 0 {
		return
	}

	o.Run = make([]string, len(selected))
	byID := make(map[string]*pending, len(selected))
	for i, p := range selected {
		o.Run[i] = escapeGlob(p.check.ID)
		byID[p.check.ID] = p
	}
	o.Skip = nil
	userProgress := o.Progress
	o.Progress = func(ev ProgressEvent) {
		if userProgress != nil {
			userProgress(ev)
		}
		if p := byID[ev.Check.ID]; ev.Kind == ProgressEnd && ev.Result != nil && p != nil {
			select {
			case p.final <- *ev.Result:
			default: // already delivered; the first final result wins
			}
		}
	}

	ctx := t.Context()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}
	type outcome struct {
		rep *Report
		err error
	}
	finished := make(chan outcome, 1)
	go func() {
		rep, err := Run(ctx, Target{Addr: addr}, o)
		finished <- outcome{rep, err}
	}()

	// Release the subtests in catalogue order, each as soon as its result
	// and those of the checks before it are known.
	var end *outcome
	for _, p := range selected {
		var d deliver
		got := false
		if end == nil {
			select {
			case d.result = <-p.final:
				got = true
			case out := <-finished:
				end = &out
			}
		}
		if !got {
			// Run has returned, so Progress will not be called again.
			select {
			case d.result = <-p.final:
			default:
				d = fromReport(end.rep, end.err, p.check)
			}
		}
		p.result <- d
		<-p.done
	}
	if end == nil {
		out := <-finished
		end = &out
	}
	if end.err != nil {
		t.Errorf("echoconf: the checks could not run: %v", end.err)
	}
}

// deliver carries one check's result to its subtest; notRun is set when the
// engine gave none.
type deliver struct {
	result Result
	notRun string
	strict bool
}

// fromReport finds c's result in rep, or explains why there is none.
func fromReport(rep *Report, err error, c spec.Check) deliver {
	if err != nil {
		return deliver{result: Result{Check: c}, notRun: fmt.Sprintf("not run: the checks could not run: %v", err)}
	}
	if rep != nil {
		for _, r := range rep.Results {
			if r.Check.ID == c.ID {
				return deliver{result: r, strict: rep.Strict}
			}
		}
	}
	return deliver{result: Result{Check: c, Status: StatusError, Err: errors.New("the engine returned no result for this check")}}
}

// reportResult turns one result into the outcome of its subtest.
func reportResult(t *testing.T, d deliver) {
	t.Helper()
	r := d.result
	if d.notRun != "" {
		t.Skip(d.notRun)
	}
	switch r.Status {
	case StatusPass:
		if r.Runs > 1 {
			t.Logf("passed %d of %d runs", r.Runs-r.Failures, r.Runs)
		}
	case StatusSkip:
		reason := "skipped by the engine"
		var s *spec.Skipped
		if errors.As(r.Err, &s) {
			reason = s.Reason
		} else if r.Err != nil {
			reason = r.Err.Error()
		}
		t.Skip(reason)
	case StatusWarn:
		t.Logf("warning: %v\n(a SHOULD requirement: not a failure unless WithStrict is given)", &CheckError{Result: r})
	case StatusUnjudged:
		if d.strict {
			t.Error(&CheckError{Result: r})
		} else {
			t.Skip((&CheckError{Result: r}).Error())
		}
	case StatusFail, StatusError:
		t.Error(&CheckError{Result: r})
	default:
		t.Errorf("%s: unknown status %q: %v", r.Check.ID, r.Status, r.Err)
	}
}

// escapeGlob quotes the path.Match metacharacters in id, so that the glob
// matches id alone.
func escapeGlob(id string) string {
	var b strings.Builder
	for _, r := range id {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
