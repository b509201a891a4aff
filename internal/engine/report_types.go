package engine

import (
	"errors"
	"time"

	"github.com/echoconf/echoconf/spec"
)

// Status is the outcome of one check.
type Status string

// The statuses of a check. Their string values are part of every report.
const (
	StatusPass  Status = "pass"  // the requirement holds
	StatusFail  Status = "fail"  // a MUST requirement (or a SHOULD one under Strict) is violated
	StatusWarn  Status = "warn"  // a SHOULD requirement is violated and the run is not strict
	StatusSkip  Status = "skip"  // the check does not apply to this target, or was not selected to run
	StatusError Status = "error" // the check could not run (the engine's fault, not the server's)
	// StatusUnjudged: a SHOULD check whose requirement could not be judged,
	// because the server did not serve the check's traffic at all (refused,
	// timed out, reset...). It is neither a pass nor a warning; it fails
	// the verdict exactly when a warning would (under Strict).
	StatusUnjudged Status = "unjudged"
)

// Verdict is the answer to "is this server conformant?".
type Verdict string

// The verdicts.
const (
	VerdictPass Verdict = "pass" // no check failed or errored
	VerdictFail Verdict = "fail" // some check failed or errored
)

// Result is the outcome of one check against the target.
type Result struct {
	Check  spec.Check
	Status Status
	Err    error // nil on pass; a *spec.Failure on fail or warn; *spec.Skipped on skip
	// NotSelected marks a check that the selection left out: its Status is
	// StatusSkip and it never ran.
	NotSelected bool
	Duration    time.Duration
	// Runs counts how many times the check ran (Options.Repeat); Failures
	// counts the runs that failed. 0 < Failures < Runs marks a flaky result.
	Runs     int
	Failures int
	// ServerDied, when the server process ended during this check, says how
	// ("exit status 1", "signal: segmentation fault").
	ServerDied string
	// Timeline is the start and end of the exchange, on a result that did
	// not pass; nil otherwise, or when the check made no connection.
	Timeline *Timeline
}

// Failure returns the result's *spec.Failure, or nil.
func (r Result) Failure() *spec.Failure {
	f, _ := r.Err.(*spec.Failure)
	return f
}

// SkipReason is why a skipped check did not run.
func (r Result) SkipReason() string {
	var s *spec.Skipped
	switch {
	case errors.As(r.Err, &s):
		return s.Reason
	case r.Err != nil:
		return r.Err.Error()
	}
	return "skipped by the engine"
}

// Flaky reports whether repeated runs of the check disagreed.
func (r Result) Flaky() bool { return r.Failures > 0 && r.Failures < r.Runs }

// Report is the result of one run of the catalogue against one target.
type Report struct {
	// Target is what was checked: "HOST:PORT", or the exec command.
	Target   string
	Started  time.Time
	Duration time.Duration
	// Strict records whether SHOULD failures count as failures.
	Strict  bool
	Results []Result
	// Server is set in exec mode.
	Server *ServerInfo
	// Seed and TimeoutScale are the payload seed and the timeout scale of
	// the run, so that a failure can be replayed with the same payloads
	// and the same timing.
	Seed         uint64
	TimeoutScale float64
	// Exec is true when Target is an exec command (with {port}).
	Exec bool
	// Network is the target's: "tcp" or "udp".
	Network string
	// Client is set when the target is a client (Target is then its
	// command line).
	Client *ClientInfo
}

// ClientInfo describes the client a report judged.
type ClientInfo struct {
	// Shape is "argument", "interactive" or "stream".
	Shape string
	// TTY is set when its stdin was a terminal.
	TTY bool
}

// Verdict returns VerdictPass when no result failed or errored and, in a
// strict run, none could not be judged.
func (r *Report) Verdict() Verdict {
	for _, res := range r.Results {
		if res.Status == StatusFail || res.Status == StatusError || (r.Strict && res.Status == StatusUnjudged) {
			return VerdictFail
		}
	}
	return VerdictPass
}

// Counts returns how many results have each status.
func (r *Report) Counts() map[Status]int {
	m := make(map[Status]int)
	for _, res := range r.Results {
		m[res.Status]++
	}
	return m
}
