package process

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/echoconf/echoconf/internal/reap"
)

// ClientSpec is one run of an echo client's command line against a server
// that echoconf plays.
type ClientSpec struct {
	// Command is the client's command line, split as Spec.Command is. Its
	// placeholders {host}, {port} and {message} are replaced by Host, Port
	// and Message.
	Command string
	Host    string
	Port    string
	Message string
	// Stdin is the client's whole standard input, then end of file; nil
	// gives it an empty input.
	Stdin []byte
	// TTY makes stdin a terminal: Stdin is typed on a pseudo-terminal,
	// then ^D, for a client that behaves differently on a terminal.
	TTY bool
	Dir string   // working directory ("" = current)
	Env []string // extra environment, "NAME=value"
	// Timeout bounds the run: the client's whole process group is killed
	// when it has not exited by then.
	Timeout time.Duration
	// Idle, when set, kills the client sooner: when its stdout has not
	// grown for that long.
	Idle time.Duration
	// Watch, when set, runs while the client does, with its process ID
	// and a channel closed once it has exited; RunClient waits for it.
	Watch func(pid int, exited <-chan struct{})
	// OutputLimit bounds each of stdout and stderr (default 64 KiB). A
	// client whose stdout grows past it is killed.
	OutputLimit int
	// Credential runs the client as this uid/gid; nil keeps the runner's.
	Credential *syscall.Credential
	// Limits are the client's resource limits, as a server's Spec has
	// them; none is set when all are zero.
	Limits Limits
	// Start, when set, starts the command instead of cmd.Start (a grader
	// puts the client in its sandbox's cgroup this way).
	Start func(cmd *exec.Cmd) error
}

// Limits are resource limits of a client process, in force from its first
// instruction. FDLimit is DefaultFDLimit when another limit is set and it
// is not.
type Limits struct {
	FDLimit     int           // RLIMIT_NOFILE
	ProcLimit   int           // RLIMIT_NPROC
	CPULimit    time.Duration // RLIMIT_CPU, rounded up to whole seconds
	MemoryLimit int64         // RLIMIT_AS in bytes
}

// ClientRun is what one run of a client did.
type ClientRun struct {
	Stdout, Stderr []byte
	// Truncated is set when stdout or stderr exceeded OutputLimit.
	Truncated bool
	// Exit is how it ended ("exit status 0", "signal: killed"); ExitCode
	// is its exit status, or -1 when a signal ended it.
	Exit     string
	ExitCode int
	// TimedOut is set when the runner killed it at Timeout (or when ctx
	// ended); Killed says why the runner killed it, "" when it exited on
	// its own (ctx's cause, when it has one, is the reason for a ctx that
	// ended).
	TimedOut bool
	Killed   string
	// CPU is the user and system time it used; Duration its wall time.
	CPU, Duration time.Duration
	// Leftovers is set when processes it started were still alive after
	// it ended (they were killed).
	Leftovers bool
}

// pollOutput is how often RunClient looks at the size of stdout.
const pollOutput = 100 * time.Millisecond

// RunClient runs c's command once, in its own session and process group,
// feeds it c.Stdin, and returns what it printed and how it ended. Its
// stdin and stdout are unlinked temporary files, so megabytes go from file
// to socket to file without passing through this process. Nothing it
// started outlives the call: its process group and every process that
// carries its mark are killed before RunClient returns. It returns an error
// only when the command cannot be started at all (ErrProgram for a program
// that is not found or not executable).
func RunClient(ctx context.Context, c ClientSpec) (*ClientRun, error) {
	if c.Timeout <= 0 {
		return nil, errors.New("run client: no timeout")
	}
	if c.OutputLimit == 0 {
		c.OutputLimit = DefaultOutputLimit
	}
	argv, err := ClientArgv(c.Command, c.Host, c.Port, c.Message)
	if err != nil {
		return nil, err
	}
	if err := checkRunnable(argv, c.Dir, c.Env); err != nil {
		return nil, err
	}
	if l := c.Limits; l != (Limits{}) {
		// prlimit (or sh) execs the program with execvp, which hands a
		// file that is no program to sh: refuse it here, as execve would.
		if err := checkFormat(argv[0], c.Dir); err != nil {
			return nil, err
		}
		argv = withLimits(argv, &Spec{FDLimit: cmp.Or(l.FDLimit, DefaultFDLimit), ProcLimit: l.ProcLimit,
			CPULimit: l.CPULimit, MemoryLimit: l.MemoryLimit})
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	mark := reap.NewMark()
	cmd.Env = append(append(os.Environ(), c.Env...), reap.Env(mark))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: c.Credential, Pdeathsig: syscall.SIGKILL}
	stdin, closeStdin, err := clientStdin(c)
	if err != nil {
		return nil, err
	}
	defer closeStdin()
	stdout, err := unlinkedTemp(nil)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr := &boundedOutput{limit: c.OutputLimit}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	// A descendant that keeps stderr open must not hold Wait for ever.
	cmd.WaitDelay = time.Second
	start := time.Now()
	startCmd := c.Start
	if startCmd == nil {
		startCmd = (*exec.Cmd).Start
	}
	if err := startCmd(cmd); err != nil {
		return nil, fmt.Errorf("%w: run client %q: %v", ErrProgram, strings.Join(argv, " "), err)
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // its outcome is read from ProcessState
		close(exited)
	}()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if c.Watch != nil {
			c.Watch(pid, exited)
		}
	}()
	run := &ClientRun{}
	run.Killed = supervise(ctx, c, exited, stdout)
	run.TimedOut = run.Killed != ""
	run.Duration = time.Since(start)
	if run.Killed == "" {
		// It exited and was reaped: whatever is left in its group, it
		// started and left behind.
		run.Leftovers = !errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-exited
	<-watched
	reap.Kill(mark, pid, runsAs(c.Credential), reapTimeout)
	st := cmd.ProcessState
	run.Exit, run.ExitCode = st.String(), st.ExitCode()
	run.CPU = st.UserTime() + st.SystemTime()
	out, outCut, err := readBounded(stdout, c.OutputLimit)
	if err != nil {
		return nil, fmt.Errorf("run client: read its stdout: %w", err)
	}
	errOut, errCut := stderr.snapshot()
	run.Stdout, run.Stderr, run.Truncated = out, []byte(errOut), outCut || errCut
	return run, nil
}

// ClientArgv splits a client command line and fills in its placeholders.
// A {message} that a shell would have to quote is refused, so that the
// command a report prints runs the same from a shell.
func ClientArgv(command, host, port, message string) ([]string, error) {
	if strings.Contains(command, "{message}") && strings.ContainsAny(message, " \t\n'\"\\$`") {
		return nil, fmt.Errorf("run client: message %q would need quoting", message)
	}
	return expandArgv(command, map[string]string{"{host}": host, "{port}": port, "{message}": message})
}

// supervise waits until the client exits, and returns "" then; or why it
// must be killed: its timeout, ctx, an idle stdout, or too much output.
func supervise(ctx context.Context, c ClientSpec, exited <-chan struct{}, stdout *os.File) string {
	limit := time.NewTimer(c.Timeout)
	defer limit.Stop()
	tick := time.NewTicker(pollOutput)
	defer tick.Stop()
	size, since := int64(0), time.Now()
	for {
		select {
		case <-exited:
			return ""
		case <-limit.C:
			return fmt.Sprintf("no exit within %v", c.Timeout)
		case <-ctx.Done():
			if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
				return cause.Error()
			}
			return "the check was stopped"
		case <-tick.C:
			st, err := stdout.Stat()
			if err != nil {
				return "its stdout could not be watched: " + err.Error()
			}
			switch {
			case st.Size() > int64(c.OutputLimit):
				return fmt.Sprintf("more than %d bytes on stdout", c.OutputLimit)
			case st.Size() != size:
				size, since = st.Size(), time.Now()
			case c.Idle > 0 && time.Since(since) > c.Idle:
				return fmt.Sprintf("stdout unchanged for %v", c.Idle)
			}
		}
	}
}

// clientStdin returns the client's stdin: a file holding c.Stdin, or the
// terminal end of a pty on which c.Stdin is typed.
func clientStdin(c ClientSpec) (*os.File, func(), error) {
	if c.TTY {
		tty, stop, err := typeOnTerminal(c.Stdin)
		if err != nil {
			return nil, nil, fmt.Errorf("run client: %w", err)
		}
		return tty, stop, nil
	}
	f, err := unlinkedTemp(c.Stdin)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { _ = f.Close() }, nil
}

// unlinkedTemp returns an open temporary file that no longer has a name,
// holding data and positioned at its start.
func unlinkedTemp(data []byte) (*os.File, error) {
	f, err := os.CreateTemp("", "echoconf-client-*")
	if err != nil {
		return nil, fmt.Errorf("run client: %w", err)
	}
	err = os.Remove(f.Name())
	if err == nil && data != nil {
		_, err = f.Write(data)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return nil, fmt.Errorf("run client: temporary file: %w", errors.Join(err, f.Close()))
	}
	return f, nil
}

// readBounded reads at most limit bytes of f from its start, and reports
// whether there was more.
func readBounded(f *os.File, limit int) ([]byte, bool, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	n := min(st.Size(), int64(limit))
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	return buf, st.Size() > int64(limit), nil
}

// CheckClient verifies a client command line before any run: it splits,
// and its program can be executed (ErrProgram otherwise).
func CheckClient(command, dir string, env []string) error {
	argv, err := ClientArgv(command, "127.0.0.1", "7", "echo")
	if err != nil {
		return err
	}
	return checkRunnable(argv, dir, env)
}

// checkFormat refuses, as ErrProgram, a program file that execve would
// not run: neither an ELF binary nor a script with a #! line.
func checkFormat(prog, dir string) error {
	path := prog
	switch {
	case !strings.Contains(prog, "/"):
		p, err := exec.LookPath(prog)
		if err != nil {
			return nil // checkRunnable has judged it
		}
		path = p
	case !filepath.IsAbs(prog) && dir != "":
		path = filepath.Join(dir, prog)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil // checkRunnable has judged it; a race is execve's to report
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if head = head[:n]; bytes.HasPrefix(head, []byte("#!")) || bytes.Equal(head, []byte("\x7fELF")) {
		return nil
	}
	return fmt.Errorf("%w: %s: exec format error (neither a binary nor a script with a #! line)", ErrProgram, prog)
}
