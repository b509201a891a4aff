package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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
	// Stdin is fed to the client's standard input, which is then closed;
	// nil gives it an empty input.
	Stdin []byte
	Dir   string   // working directory ("" = current)
	Env   []string // extra environment, "NAME=value"
	// Timeout bounds the run: the client's whole process group is killed
	// when it has not exited by then.
	Timeout time.Duration
	// OutputLimit bounds each of stdout and stderr (default 64 KiB).
	OutputLimit int
	// Credential runs the client as this uid/gid; nil keeps the runner's.
	Credential *syscall.Credential
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
	// TimedOut is set when the runner killed it at Timeout.
	TimedOut bool
	// CPU is the user and system time it used; Duration its wall time.
	CPU, Duration time.Duration
}

// RunClient runs c's command once, in its own session and process group,
// feeds it c.Stdin, and returns what it printed and how it ended. Nothing
// it started outlives the call: its process group and every process that
// carries its mark are killed before RunClient returns. It returns an error
// only when the command cannot be started at all.
func RunClient(ctx context.Context, c ClientSpec) (*ClientRun, error) {
	if c.Timeout <= 0 {
		return nil, errors.New("run client: no timeout")
	}
	if c.OutputLimit == 0 {
		c.OutputLimit = DefaultOutputLimit
	}
	argv, err := expandArgv(c.Command, map[string]string{"{host}": c.Host, "{port}": c.Port, "{message}": c.Message})
	if err != nil {
		return nil, err
	}
	if strings.Contains(c.Command, "{message}") && strings.ContainsAny(c.Message, " \t\n'\"\\$`") {
		return nil, fmt.Errorf("run client: message %q would need quoting", c.Message)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	mark := reap.NewMark()
	cmd.Env = append(append(os.Environ(), c.Env...), reap.Env(mark))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: c.Credential, Pdeathsig: syscall.SIGKILL}
	cmd.Stdin = bytes.NewReader(c.Stdin)
	stdout, stderr := &boundedOutput{limit: c.OutputLimit}, &boundedOutput{limit: c.OutputLimit}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A descendant that keeps stdout open must not hold Wait for ever.
	cmd.WaitDelay = time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run client %q: %w", strings.Join(argv, " "), err)
	}
	pid := cmd.Process.Pid
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	run := &ClientRun{}
	t := time.NewTimer(c.Timeout)
	defer t.Stop()
	select {
	case <-waited:
	case <-t.C:
		run.TimedOut = true
	case <-ctx.Done():
		run.TimedOut = true
	}
	run.Duration = time.Since(start)
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	reap.Kill(mark, pid, reapTimeout)
	if run.TimedOut {
		<-waited
	}
	st := cmd.ProcessState
	run.Exit, run.ExitCode = st.String(), st.ExitCode()
	run.CPU = st.UserTime() + st.SystemTime()
	out, outCut := stdout.snapshot()
	errOut, errCut := stderr.snapshot()
	run.Stdout, run.Stderr, run.Truncated = []byte(out), []byte(errOut), outCut || errCut
	return run, nil
}
