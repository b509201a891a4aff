package conformance

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/echoconf/echoconf/spec"
)

// Defaults applied by Run when the corresponding field is zero.
const (
	// DefaultSeed is the payload seed used when Options.Seed is 0, so that
	// two runs against the same server send the same bytes.
	DefaultSeed uint64 = 0x6563686f636f6e66 // "echoconf"
	// DefaultStartupTimeout bounds how long an exec'd server has to accept.
	DefaultStartupTimeout = 5 * time.Second
	// DefaultFDLimit is the RLIMIT_NOFILE of an exec'd server: low enough
	// that a descriptor leak shows up within the catalogue.
	DefaultFDLimit = 256
	// DefaultOutputLimit is how many bytes of an exec'd server's stdout and
	// stderr are kept.
	DefaultOutputLimit = 64 << 10
	// DefaultCheckTimeout is the watchdog of a check that declares none.
	DefaultCheckTimeout = 30 * time.Second
)

// ReasonNotSelected is the spec.Skipped reason of a check that --run or
// --skip left out; reporters use NotSelected to tell it from a check that
// does not apply to the target.
const ReasonNotSelected = "not selected by --run/--skip"

// NotSelected reports whether r is a check that the selection left out.
func NotSelected(r Result) bool {
	sk, ok := r.Err.(*spec.Skipped)
	return ok && r.Status == StatusSkip && sk.Reason == ReasonNotSelected
}

// Target is what Run checks: exactly one of Addr and Exec is set.
type Target struct {
	// Addr is "HOST:PORT" of a running server; IPv6 literals are written
	// "[::1]:7007".
	Addr string
	// Exec is a command that Run starts, checks and stops.
	Exec *ExecSpec
}

// String returns the address, or the exec command as given.
func (t Target) String() string {
	if t.Exec != nil {
		return t.Exec.Command
	}
	return t.Addr
}

// MaxRepeat bounds Options.Repeat: 1000 runs of every check already take
// hours against a correct server, and a flaky check shows within far fewer.
const MaxRepeat = 1000

// ExecSpec describes a server that Run starts itself (exec mode).
//
// The command is split into words with shell-like quoting ('…', "…", \);
// {port} is replaced in every word by a free port on 127.0.0.1. A command
// that contains shell syntax outside quotes ($, |, &, ;, <, >, `, parentheses,
// globs or a newline) is run by /bin/sh -c instead, prefixed with exec when
// it is a single simple command so that the server, not the shell, is the
// process the checks observe.
type ExecSpec struct {
	Command        string        // e.g. "./server {port}"; {port} is replaced by a free port
	Dir            string        // working directory ("" = current)
	Env            []string      // extra environment, "NAME=value"
	StartupTimeout time.Duration // wait for it to accept (default 5s)
	FDLimit        int           // RLIMIT_NOFILE (default 256)
	ProcLimit      int           // RLIMIT_NPROC (0 = unlimited)
	CPULimit       time.Duration // RLIMIT_CPU, rounded up to whole seconds (0 = unlimited)
	MemoryLimit    int64         // RLIMIT_AS in bytes (0 = unlimited)
	// Credential runs the server as this uid/gid; nil keeps the runner's.
	Credential  *syscall.Credential
	OutputLimit int  // bytes of stdout+stderr kept (default 64 KiB)
	Restart     bool // restart the server after it dies, for the remaining checks
	// Start, when set, starts each incarnation's prepared command in place
	// of cmd.Start: package grade uses it to start the server inside a
	// cgroup. It must return once the process runs or failed to start,
	// without waiting for it, and may add to cmd.SysProcAttr but not
	// change what is set there.
	Start func(cmd *exec.Cmd) error
}

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
	// Checks is the catalogue (default spec.All()).
	Checks []spec.Check
	// Parallel bounds how many non-exclusive checks run at once (default 6).
	Parallel int
	// ConfirmAlone re-runs alone, once the checks running alongside it have
	// ended, each check that failed or warned while others ran, and reports
	// only the alone run. A server that serves one client at a time then
	// fails the concurrency checks and nothing else, whatever happened to
	// overlap, at nearly the speed of a parallel run. It costs nothing on a
	// passing server. The re-runs are skipped when no check of the group
	// passed (the server answers no one, so re-running only repeats its
	// timeouts) and after the server has died. ConfirmAlone hides a fault
	// that shows only while checks overlap; the concurrency checks, which
	// are Exclusive and never re-run, are the ones meant to catch those.
	ConfirmAlone bool
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

func (e *ExecSpec) withDefaults() (ExecSpec, error) {
	x := *e
	if strings.TrimSpace(x.Command) == "" {
		return x, errors.New("empty exec command")
	}
	if !strings.Contains(x.Command, "{port}") {
		return x, fmt.Errorf("exec command %q has no {port} placeholder", x.Command)
	}
	if x.StartupTimeout == 0 {
		x.StartupTimeout = DefaultStartupTimeout
	}
	if x.FDLimit == 0 {
		x.FDLimit = DefaultFDLimit
	}
	if x.OutputLimit == 0 {
		x.OutputLimit = DefaultOutputLimit
	}
	switch {
	case x.StartupTimeout < 0:
		return x, fmt.Errorf("negative startup timeout %v", x.StartupTimeout)
	case x.FDLimit < 0 || x.ProcLimit < 0 || x.CPULimit < 0 || x.MemoryLimit < 0 || x.OutputLimit < 0:
		return x, errors.New("negative resource limit")
	case x.FDLimit < 8:
		return x, fmt.Errorf("fd limit %d too low to run a server (need at least 8)", x.FDLimit)
	}
	argv, err := commandArgv(x.Command, "0")
	if err != nil {
		return x, err
	}
	if err := checkRunnable(argv, x.Dir, x.Env); err != nil {
		return x, err
	}
	if err := checkFDLimit(&x); err != nil {
		return x, err
	}
	return x, nil
}
