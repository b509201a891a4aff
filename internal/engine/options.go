package engine

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/echoconf/echoconf/spec"
)

// Defaults applied by Run when the corresponding field is zero.
const (
	// DefaultSeed is the payload seed used when Options.Seed is 0, so that
	// two runs against the same server send the same bytes.
	DefaultSeed uint64 = 0x6563686f636f6e66 // "echoconf"
	// DefaultCheckTimeout is the watchdog of a check that declares none.
	DefaultCheckTimeout = 30 * time.Second
)

// ReasonNotSelected is the spec.Skipped reason of a check that the
// selection (Options.Run, Options.Skip) left out; such a Result has
// NotSelected set.
const ReasonNotSelected = "not selected by --run/--skip"

// Target is what Run checks: exactly one of Addr, Exec (a server) and
// Client (a client) is set.
type Target struct {
	// Addr is "HOST:PORT" of a running server; IPv6 literals are written
	// "[::1]:7007".
	Addr string
	// Exec is a command that Run starts, checks and stops.
	Exec *ExecSpec
	// Network is "tcp" (when empty) or "udp": what the server serves.
	Network string
	// Client is an echo client to check with the client catalogue.
	Client *ClientTarget
}

// String returns the address, or the exec or client command as given.
func (t Target) String() string {
	switch {
	case t.Exec != nil:
		return t.Exec.Command
	case t.Client != nil:
		return t.Client.Command
	}
	return t.Addr
}

// MaxRepeat bounds Options.Repeat: 1000 runs of every check already take
// hours against a correct server, and a flaky check shows within far fewer.
const MaxRepeat = 1000

// ProgressKind says whether a ProgressEvent starts or ends a check.
type ProgressKind int

// The kinds of progress event.
const (
	// ProgressStart is sent when a check is dispatched (once, even with Repeat).
	ProgressStart ProgressKind = iota
	// ProgressEnd is sent when a check's result is final.
	ProgressEnd
)

// ProgressEvent reports that a check started or ended.
type ProgressEvent struct {
	Kind  ProgressKind
	Check spec.Check
	// Index is the check's position among the selected checks, in catalogue
	// order; Total is how many checks are selected.
	Index, Total int
	// Result is set on ProgressEnd. It is a copy: changing it changes nothing.
	Result *Result
}

// Options tune a run. The zero value runs the whole catalogue with defaults.
type Options struct {
	// Run and Skip select checks by ID with path.Match globs
	// ("halfclose/*", "*/large-*"). A pattern without a slash names a
	// category ("halfclose" means "halfclose/*"). A check runs when it
	// matches some Run pattern (or Run is empty) and no Skip pattern.
	// Checks that do not run are reported as StatusSkip. A malformed
	// pattern, or one that matches no check, is an error.
	Run, Skip []string
	// Strict makes SHOULD failures fail the verdict instead of warning.
	Strict bool
	// TimeoutScale stretches every timeout (default 1).
	TimeoutScale float64
	// Repeat runs each check this many times (default 1) to expose flaky
	// results.
	Repeat int
	// Seed makes payloads reproducible (default DefaultSeed).
	Seed uint64
	// Deadline bounds the whole run (default: the sum of the selected
	// checks' scaled timeouts plus startup, which is never reached unless
	// checks hang).
	Deadline time.Duration
	// Progress, when set, is called as checks start and end. Calls are
	// serialised, never concurrent, and come from Run's goroutines before
	// Run returns. A check that ConfirmAlone re-runs starts and ends
	// again, with the same Index.
	Progress func(ProgressEvent)
	// Checks is the catalogue (default spec.All(), or spec.UDP() for a UDP
	// target).
	Checks []spec.Check
	// Parallel bounds how many non-exclusive checks run at once (default 6).
	Parallel int
	// ConfirmAlone re-runs alone each Together or Disruptive check that
	// failed or warned while others ran, and reports the alone run, so a
	// server that serves one client at a time fails only the concurrency
	// checks. There are no re-runs when no check of the group passed, or
	// once the server has died, nor of a failure whose spec.Failure.Held
	// shows that the server read the bytes it did not echo: a server
	// waiting on another client would not have read them.
	ConfirmAlone bool
}

// CheckTimeout is c's watchdog: its Timeout (DefaultCheckTimeout when it
// declares none) times TimeoutScale (1 when unset).
func (o Options) CheckTimeout(c spec.Check) time.Duration {
	d := c.Timeout
	if d <= 0 {
		d = DefaultCheckTimeout
	}
	if o.TimeoutScale > 0 {
		d = time.Duration(float64(d) * o.TimeoutScale)
	}
	return d
}

// An Option edits Options; the adapters' WithXxx functions make them.
type Option func(*Options)

// Apply returns the Options that opts make, in order, from the zero value.
func Apply(opts ...Option) Options {
	var o Options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// DefaultParallel is how many non-exclusive checks run at once by default.
const DefaultParallel = 6

func (o Options) withDefaults() (Options, error) {
	if o.TimeoutScale == 0 {
		o.TimeoutScale = 1
	}
	if !(o.TimeoutScale > 0 && o.TimeoutScale <= 1000) { // NaN too
		return o, fmt.Errorf("timeout scale %g out of range (0, 1000]", o.TimeoutScale)
	}
	if o.Repeat == 0 {
		o.Repeat = 1
	}
	if o.Repeat < 0 || o.Repeat > MaxRepeat {
		return o, fmt.Errorf("repeat %d out of range [1, %d]", o.Repeat, MaxRepeat)
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Deadline < 0 {
		return o, fmt.Errorf("negative deadline %v", o.Deadline)
	}
	if o.Parallel == 0 {
		o.Parallel = DefaultParallel
	}
	if o.Parallel < 0 {
		return o, fmt.Errorf("negative parallelism %d", o.Parallel)
	}
	if o.Checks == nil {
		o.Checks = spec.All()
	}
	if len(o.Checks) == 0 {
		return o, errors.New("no checks to run")
	}
	seen := make(map[string]bool, len(o.Checks))
	for _, c := range o.Checks {
		if c.ID == "" || c.Run == nil {
			return o, fmt.Errorf("check %q has no ID or no Run function", c.ID)
		}
		if seen[c.ID] {
			return o, fmt.Errorf("check ID %q appears twice", c.ID)
		}
		seen[c.ID] = true
	}
	return o, nil
}

// ValidateAddr checks that addr is "HOST:PORT" with a non-empty host and a
// numeric port in 1..65535, as the CLI requires of a target.
func ValidateAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid target %q: want HOST:PORT (IPv6 as [::1]:7007): %w", addr, stripAddrErr(err))
	}
	if host == "" {
		return fmt.Errorf("invalid target %q: missing host", addr)
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Errorf("invalid target %q: invalid host %q", addr, host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("invalid target %q: port %q is not a number in 1..65535", addr, port)
	}
	return nil
}

func stripAddrErr(err error) error {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return errors.New(ae.Err)
	}
	return err
}
