package spec

import (
	"context"
	"fmt"
	"net"
	"slices"
	"time"
)

// Level says how binding a requirement is, in the sense of RFC 2119.
type Level int

const (
	// Must marks a requirement whose failure makes a server non-conformant.
	Must Level = iota
	// Should marks hygiene: its failure is a warning unless the run is strict.
	Should
)

// String returns "MUST" or "SHOULD".
func (l Level) String() string {
	switch l {
	case Must:
		return "MUST"
	case Should:
		return "SHOULD"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// The categories of the catalogue, in catalogue order.
const (
	CategoryBasic       = "basic"
	CategoryPartial     = "partial"
	CategoryLarge       = "large"
	CategoryHalfClose   = "halfclose"
	CategoryConcurrency = "concurrency"
	CategoryRobustness  = "robustness"
)

// Categories lists every category in catalogue order.
func Categories() []string {
	return []string{
		CategoryBasic, CategoryPartial, CategoryLarge,
		CategoryHalfClose, CategoryConcurrency, CategoryRobustness,
	}
}

// Needs says what a check needs of the target beyond its address.
type Needs int

const (
	// NeedsAddress checks need only connections to the target.
	NeedsAddress Needs = iota
	// NeedsProcess checks observe the server's process. The engine skips
	// them, with a reason, when it did not start the server itself.
	NeedsProcess
	// NeedsClient checks judge an echo client: they play its server and
	// run it through Env.Client. They run only against a client target,
	// and server checks never do.
	NeedsClient
)

// Schedule says when the engine runs a check relative to the others.
type Schedule int

const (
	// Together checks run first, alongside each other.
	Together Schedule = iota
	// Alone checks run one at a time with nothing else in flight, because
	// they measure the server as a whole (many connections, fd counts).
	Alone
	// Disruptive checks abuse the server and may crash it, so they run
	// after every Together and Alone check, alongside each other.
	Disruptive
	// Last checks run after every other check, one at a time.
	Last
)

// String returns the schedule's name in lower case.
func (s Schedule) String() string {
	switch s {
	case Together:
		return "together"
	case Alone:
		return "alone"
	case Disruptive:
		return "disruptive"
	case Last:
		return "last"
	}
	return fmt.Sprintf("Schedule(%d)", int(s))
}

// A Check is one requirement of the echo protocol, verified from the client side.
//
// A Check is data plus a closure. Run must honour ctx (the runner's watchdog
// cancels it at Timeout, scaled), put a deadline on every I/O, close every
// connection it dials before returning, and never panic. It returns nil when
// the requirement holds, a *Failure when the server was observed to violate
// it, and *Skipped when it cannot apply to this target (for example a process
// check against a HOST:PORT target).
type Check struct {
	// ID is "category/name": stable and public. It never changes.
	ID string
	// Requirement is the one sentence this check verifies, quoted in every failure.
	Requirement string
	// Level is Must or Should.
	Level Level
	// Timeout is the watchdog for the whole check at scale 1.
	Timeout time.Duration
	// Needs is what the check needs of the target beyond its address.
	Needs Needs
	// Schedule says when the engine runs the check.
	Schedule Schedule
	// Measures is the failure kind that measures the requirement, set on
	// every SHOULD check (KindHygiene, KindSlow). A failure of another
	// kind means the server did not serve the check's traffic, so the
	// requirement was not judged.
	Measures Kind
	// Probe marks the check the engine re-runs alone, once, to tell a
	// server that answers no one from one that answers one client at a
	// time. It sends a little and passes on any server that answers.
	Probe bool
	// Network is "udp" for a check of the datagram service, whose Env.Dial
	// must return a connected UDP socket; empty for TCP.
	Network string
	// Shapes are the client shapes a client check applies to; nil means
	// every shape. A client check run on another shape is skipped.
	Shapes []Shape
	// Run performs the check.
	Run func(ctx context.Context, env *Env) error
}

// AppliesTo reports whether the check applies to a client of shape s.
func (c Check) AppliesTo(s Shape) bool { return c.Shapes == nil || slices.Contains(c.Shapes, s) }

// Category returns the part of the ID before the slash.
func (c Check) Category() string {
	for i := 0; i < len(c.ID); i++ {
		if c.ID[i] == '/' {
			return c.ID[:i]
		}
	}
	return c.ID
}

// Env is what a check may use: fresh connections to the target, the timeout
// scale, and, when the runner started the server, its process.
type Env struct {
	// Dial opens a fresh TCP connection to the target. It must be given a
	// context with a deadline.
	Dial func(ctx context.Context) (net.Conn, error)
	// Scale multiplies every time limit (I/O deadlines, pauses that define
	// "promptly"); 1 when unset.
	Scale float64
	// Seed makes payloads reproducible; checks derive every payload from it.
	Seed uint64
	// Process is the server's process when the runner started it (exec
	// mode), and nil for a HOST:PORT target.
	Process Process
	// Client runs the client under test, for the client catalogue
	// (NeedsClient checks); nil for a server target.
	Client ClientRunner
}

// Scaled returns d multiplied by the Env's Scale (d itself when Scale is unset).
func (e *Env) Scaled(d time.Duration) time.Duration {
	if e == nil || e.Scale <= 0 {
		return d
	}
	return time.Duration(float64(d) * e.Scale)
}

// Process is a view of a server process that the runner started. The
// runner implements it; checks only read from it.
type Process interface {
	// PID is the server's process ID (the leader of its process group).
	PID() int
	// Exited reports whether the server process has ended, and how
	// ("exit status 1", "signal: killed"). It does not block.
	Exited() (exited bool, how string)
	// OpenFDs counts the server's open file descriptors (/proc/PID/fd).
	OpenFDs() (int, error)
	// Zombies counts the server's child processes that are zombies (state Z).
	Zombies() (int, error)
	// Deaths describes every death of the server in this run so far, in
	// order, including those that a restart recovered from ("died during
	// basic/echo: signal: killed"). It is empty while the server never died.
	Deaths() []string
}

// ReasonNeedsProcess is why a NeedsProcess check is skipped against a
// server that the runner did not start.
const ReasonNeedsProcess = "needs the server's process: run the server with --exec"

// Skipped is returned by a check that does not apply to the target.
type Skipped struct{ Reason string }

// Error returns "skipped: " and the reason.
func (s *Skipped) Error() string { return "skipped: " + s.Reason }
