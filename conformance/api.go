package conformance

import (
	"context"

	"github.com/echoconf/echoconf/internal/engine"
)

// Target is what Run checks: exactly one of Addr ("HOST:PORT"), Exec
// (a command that Run starts, checks and stops) and Client (an echo
// client, checked with the client catalogue) is set.
type Target = engine.Target

// ExecSpec describes a server that Run or StartProcess starts: its command
// line, with {port} replaced by a free port of 127.0.0.1, and its limits.
type ExecSpec = engine.ExecSpec

// Report is the outcome of a run: one Result per check, in catalogue order.
type Report = engine.Report

// Result is one check's outcome.
type Result = engine.Result

// Status is a check's outcome.
type Status = engine.Status

// The statuses of a Result.
const (
	StatusPass     = engine.StatusPass
	StatusFail     = engine.StatusFail
	StatusWarn     = engine.StatusWarn
	StatusUnjudged = engine.StatusUnjudged
	StatusSkip     = engine.StatusSkip
	StatusError    = engine.StatusError
)

// Verdict is a whole run's outcome: pass or fail.
type Verdict = engine.Verdict

// The verdicts of a Report.
const (
	VerdictPass = engine.VerdictPass
	VerdictFail = engine.VerdictFail
)

// ErrCommand is wrapped by Run's error when an exec command cannot be run
// at all (not found, not executable, or exit 126/127 before it listens).
var ErrCommand = engine.ErrCommand

// Run checks the target against the catalogue, as opts select and tune it,
// and returns the report. It returns an error only when it cannot run at
// all; see the package documentation for what it guarantees.
func Run(ctx context.Context, t Target, opts ...Option) (*Report, error) {
	return engine.Run(ctx, t, engine.Apply(opts...))
}

// Process is a server that StartProcess started, to be checked by address.
type Process = engine.Process

// StartProcess starts x.Command with {port} replaced by a free port of
// 127.0.0.1, in its own process group, and returns once the server accepts
// connections. Close the Process to stop its whole process group.
func StartProcess(ctx context.Context, x ExecSpec) (*Process, error) {
	return engine.StartProcess(ctx, x)
}
