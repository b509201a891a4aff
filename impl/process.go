package impl

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// childEnvVar marks a process as a ModelProcess child and carries its
// settings. The child removes it from its environment at once.
const childEnvVar = "ECHOCONF_IMPL_CHILD"

// childFD is the descriptor of the connection in a child: the first of
// exec.Cmd.ExtraFiles.
const childFD = 3

// childHookCalled records that this program calls RunChildIfRequested, so
// that ModelProcess may re-execute it.
var childHookCalled atomic.Bool

// childSettings is what the parent tells a child, as JSON in childEnvVar.
type childSettings struct {
	IdleTimeout time.Duration `json:"idle_timeout"`
	BufferSize  int           `json:"buffer_size"`
	Splice      bool          `json:"splice"`
}

// Child exit codes. A child that lost its client (reset, timeout) exits
// childConnError; that is the client's doing and the parent does not log it.
const (
	childOK        = 0
	childConnError = 1
	childSetup     = 2
)

// RunChildIfRequested serves one connection and returns (exit code, true)
// when this process was started as a ModelProcess child; otherwise it
// returns (0, false) at once. Every program that uses ModelProcess must
// call it first thing in main, and test binaries first thing in TestMain,
// before flags are parsed:
//
//	func main() {
//		if code, ok := impl.RunChildIfRequested(); ok {
//			os.Exit(code)
//		}
//		...
//	}
//
// This is the helper-process pattern of os/exec's tests: the server
// re-executes its own binary with a marker in the environment, and this
// call recognises the marker. The child ignores SIGINT and SIGTERM (its
// parent decides when a connection in progress must end, and kills it
// then) and dies with SIGKILL if its parent dies.
func RunChildIfRequested() (code int, isChild bool) {
	childHookCalled.Store(true)
	raw, ok := os.LookupEnv(childEnvVar)
	if !ok {
		return 0, false
	}
	_ = os.Unsetenv(childEnvVar)
	return runChild(raw), true
}

// runChild echoes the connection on childFD and returns the exit code.
func runChild(raw string) int {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
	var set childSettings
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		fmt.Fprintf(os.Stderr, "echo child: bad %s: %v\n", childEnvVar, err)
		return childSetup
	}
	f := os.NewFile(childFD, "echo-connection")
	if f == nil {
		fmt.Fprintf(os.Stderr, "echo child: descriptor %d is not open\n", childFD)
		return childSetup
	}
	c, err := net.FileConn(f)
	_ = f.Close() // FileConn made its own copy
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo child: %v\n", err)
		return childSetup
	}
	defer c.Close()
	err = echo(c, echoOptions{
		idle:   set.IdleTimeout,
		splice: set.Splice,
		getBuf: func() *[]byte {
			b := make([]byte, set.BufferSize)
			return &b
		},
		putBuf: func(*[]byte) {},
	})
	if err != nil {
		return childConnError
	}
	return childOK
}

// childCommand returns the executable and environment of ModelProcess
// children for cfg.
func childCommand(cfg Config) (exe string, env []string, err error) {
	if !childHookCalled.Load() {
		return "", nil, errors.New("process model needs impl.RunChildIfRequested at the start of main (or TestMain)")
	}
	exe, err = os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("process model: find own executable: %w", err)
	}
	raw, err := json.Marshal(childSettings{IdleTimeout: cfg.IdleTimeout, BufferSize: cfg.BufferSize, Splice: cfg.Splice})
	if err != nil {
		return "", nil, fmt.Errorf("process model: %w", err)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, childEnvVar+"=") {
			env = append(env, kv)
		}
	}
	env = append(env, childEnvVar+"="+string(raw))
	return exe, env, nil
}

// serveInChild hands t's connection to a new child process, closes the
// parent's copies of it, and waits for (reaps) the child.
func (s *Server) serveInChild(t *tracked) {
	fc, ok := t.conn.(interface{ File() (*os.File, error) })
	if !ok {
		s.logf("process model: %T has no file descriptor", t.conn)
		_ = t.conn.Close()
		return
	}
	f, err := fc.File()
	_ = t.conn.Close() // the child gets f; the parent keeps no copy
	if err != nil {
		s.logf("process model: %v", err)
		return
	}
	cmd := &exec.Cmd{
		Path:        s.exe,
		Args:        []string{s.exe},
		Env:         s.env,
		ExtraFiles:  []*os.File{f},
		Stderr:      os.Stderr,
		SysProcAttr: childProcAttr(),
	}
	err = cmd.Start()
	_ = f.Close()
	if err != nil {
		s.logf("process model: start child: %v", err)
		return
	}
	if !s.setProc(t, cmd.Process) {
		_ = cmd.Process.Kill()
	}
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == childConnError {
			return
		}
		if errors.As(err, &ee) && !ee.Exited() && s.isForced() {
			return // killed by Shutdown
		}
		s.logf("process model: child %d: %v", cmd.Process.Pid, err)
	}
}

func (s *Server) isForced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forced
}
