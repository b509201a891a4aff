package impl

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
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
	var buf *[]byte // one buffer, made on the first read and kept
	err = echo(c, echoOptions{
		idle:   set.IdleTimeout,
		splice: set.Splice,
		getBuf: func() *[]byte {
			if buf == nil {
				b := make([]byte, set.BufferSize)
				buf = &b
			}
			return buf
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
	if os.Getenv("GOMAXPROCS") == "" {
		// One connection needs one P: fewer threads and less memory per child.
		env = append(env, "GOMAXPROCS=1")
	}
	return exe, env, nil
}

// devNull is the children's stdin and stdout, opened once per process: on
// the first attempt that succeeds, since it may fail at the fd limit.
var devNull = struct {
	sync.Mutex
	f *os.File
}{}

func openDevNull() (*os.File, error) {
	devNull.Lock()
	defer devNull.Unlock()
	if devNull.f == nil {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		devNull.f = f
	}
	return devNull.f, nil
}

// spareThreads is how many OS threads the process model makes when it
// starts serving, for the Go runtime to keep idle and reuse. Under a
// process limit (ulimit -u), the children can take every thread the user
// may have, and the runtime aborts the whole server if it then fails to
// start a thread it needs; with spares made early it needs none later.
const spareThreads = 8

// makeSpareThreads runs spareThreads goroutines locked to threads of their
// own at once, then unlocks them: the runtime keeps the threads idle.
func makeSpareThreads() {
	var ready, release sync.WaitGroup
	ready.Add(spareThreads)
	release.Add(1)
	var done sync.WaitGroup
	for range spareThreads {
		done.Go(func() {
			runtime.LockOSThread()
			ready.Done()
			release.Wait()
			runtime.UnlockOSThread()
		})
	}
	ready.Wait()
	release.Done()
	done.Wait()
}

var spareThreadsOnce sync.Once

// serveInChild starts a child for t's connection; once the child runs, the
// parent holds neither a thread nor a descriptor for it: the reaper waits
// for every child at once. A shortage of descriptors, processes or memory
// keeps the connection and retries with backoff (the accept loop backs off
// too), so clients wait instead of being reset. Children start from
// goroutines of their own: on a busy machine, fork and exec take long
// enough that starting them one after the other would delay the last
// clients of a burst by seconds.
func (s *Server) serveInChild(t *tracked) {
	var backoff time.Duration
	for {
		err := s.spawn(t)
		if err == nil {
			_ = t.conn.Close() // the child has its own copy
			return
		}
		if !retryableStartError(err) {
			s.logf("process model: start child: %v", err)
			s.finish(t)
			return
		}
		backoff = min(max(2*backoff, minAcceptBackoff), maxAcceptBackoff)
		s.logf("process model: start child: %v; retrying in %v", err, backoff)
		timer := time.NewTimer(backoff)
		select {
		case <-timer.C:
		case <-s.done:
			timer.Stop()
			s.finish(t)
			return
		}
	}
}

// retryableStartError reports whether starting a child failed for want of
// a resource that connections ending will free.
func retryableStartError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN, syscall.ENOMEM, syscall.ENOBUFS} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// spawn forks and executes a child with t's connection as childFD and
// records it for the reaper.
func (s *Server) spawn(t *tracked) error {
	null, err := openDevNull()
	if err != nil {
		return fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	rc, ok := rawConn(t.conn)
	if !ok {
		return fmt.Errorf("%T has no file descriptor", t.conn)
	}
	s.startReaper()
	var (
		pid  int
		ferr error
	)
	cerr := rc.Control(func(fd uintptr) {
		pid, ferr = syscall.ForkExec(s.exe, []string{s.exe}, &syscall.ProcAttr{
			Env:   s.env,
			Files: []uintptr{null.Fd(), null.Fd(), os.Stderr.Fd(), fd},
			Sys:   childProcAttr(),
		})
	})
	if cerr != nil {
		return cerr
	}
	if ferr != nil {
		return ferr
	}
	s.mu.Lock()
	t.pid = pid
	s.children[pid] = t
	if s.forced {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	s.mu.Unlock()
	// The child may have exited before it was recorded, its SIGCHLD
	// consumed by a scan that did not know it yet: scan again.
	select {
	case s.rescan <- struct{}{}:
	default:
	}
	return nil
}

// startReaper starts, once, the goroutine that reaps children.
func (s *Server) startReaper() {
	s.reaperOnce.Do(func() {
		spareThreadsOnce.Do(makeSpareThreads)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGCHLD) // before the first fork
		s.rescan = make(chan struct{}, 1)
		s.reaping.Add(1)
		go s.reap(sig, s.rescan)
	})
}

// reap waits for SIGCHLD and reaps the children that exited, until the
// server stops and no child is left. One goroutine serves every child, and
// it waits in the Go runtime, not in a system call, so children cost the
// parent no thread.
func (s *Server) reap(sig chan os.Signal, rescan <-chan struct{}) {
	defer s.reaping.Done()
	defer signal.Stop(sig)
	// A scan every second as well: a safety net, should a SIGCHLD ever go
	// astray, that costs one wait4 per child and second.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	done := s.done
	for {
		if s.reapExited() {
			return
		}
		select {
		case <-sig:
		case <-rescan:
		case <-tick.C:
		case <-done:
			done = nil
		}
	}
}

// reapExited reaps every exited child of this server and reports whether
// the server is stopping with no child left.
func (s *Server) reapExited() (over bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid, t := range s.children {
		var (
			ws   unix.WaitStatus
			wpid int
			err  error
		)
		for {
			wpid, err = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
			if err != unix.EINTR {
				break
			}
		}
		if err == nil && wpid == 0 {
			continue // still running
		}
		delete(s.children, pid)
		switch {
		case err != nil:
			s.logf("process model: wait for child %d: %v", pid, err)
		case ws.Exited() && (ws.ExitStatus() == childOK || ws.ExitStatus() == childConnError):
		case ws.Signaled() && s.forced:
			// killed by Shutdown
		case ws.Exited():
			s.logf("process model: child %d: exit status %d", pid, ws.ExitStatus())
		default:
			s.logf("process model: child %d: %v", pid, ws.Signal())
		}
		s.finishLocked(t)
	}
	return s.stopping && len(s.children) == 0
}

// spawnSlots is how many accepted connections may wait for their child at
// once. Many let children start in parallel on a busy machine (fork and
// exec wait for the scheduler); but each holds a descriptor, and starting a
// child needs two more (a pipe), so near the fd limit unbounded accepts
// would take them all and no child could ever start. Half of what the fd
// limit leaves after a margin for the runtime, between 1 and 64.
func spawnSlots() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 4
	}
	const margin = 32
	return int(min(max((int64(rl.Cur)-margin)/2, 1), 64))
}
