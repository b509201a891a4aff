package process

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/echoconf/echoconf/internal/reap"
)

// Exec-mode time limits.
const (
	// stopGrace is how long a server has to exit after SIGTERM before its
	// process group gets SIGKILL.
	stopGrace = time.Second
	// reapTimeout bounds the wait for a SIGKILLed process to be reaped.
	reapTimeout = 5 * time.Second
	// drainTimeout bounds the wait for the output pipe to reach EOF after
	// the group is dead (a process that escaped the group may hold it).
	drainTimeout = time.Second
	// maxRestarts bounds --restart, so a server that dies at once on every
	// start cannot loop forever.
	maxRestarts = 50
)

// Incarnation is one incarnation of an exec'd server.
type Incarnation struct {
	cmd      *exec.Cmd
	pid      int // also the process group and session ID (Setsid)
	addr     string
	command  string // argv joined, port substituted
	done     chan struct{}
	how      string        // how it ended; written before done is closed
	stopped  chan struct{} // closed when stop has finished
	stopOnce sync.Once
	// stopping is set when the runner starts to stop the process, so its
	// end is not counted as a death; ownExit is how it ended when it had
	// already ended by itself by then.
	stopping atomic.Bool
	ownExit  string
	// deathNoted is set, under Supervisor.mu, once its death is recorded.
	deathNoted bool
	pipe       *os.File
	drained    chan struct{}
	started    time.Time
	// mark is in the environment of the process and of everything it
	// starts, so stop finds even a daemon that left its session.
	mark string
	// uid is the user it runs as.
	uid int
	// release ends the reservation of its port (see reservePort).
	release func()
}

// exited reports whether the process has ended, without blocking.
func (p *Incarnation) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startProc starts one incarnation on a fresh port. It returns once the
// process runs; it does not wait for it to listen.
func startProc(x *Spec, out *boundedOutput) (*Incarnation, error) {
	port, release, err := reservePort(x.Network)
	if err != nil {
		return nil, err
	}
	p, err := startOn(x, out, port, release)
	if err != nil {
		release()
	}
	return p, err
}

// startOn starts one incarnation on port, which it holds with release
// until it stops.
func startOn(x *Spec, out *boundedOutput, port int, release func()) (*Incarnation, error) {
	argv, err := commandArgv(x.Command, strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	full := withLimits(argv, x)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Dir = x.Dir
	mark := reap.NewMark()
	cmd.Env = append(append(os.Environ(), x.Env...), reap.Env(mark))
	// Setsid: the server leads its own session and so its own process
	// group, and, where the kernel groups the scheduler by session
	// (sched_autogroup, on by default), its own CPU share: a fork bomb's
	// hundreds of spinning processes then share one session's CPU instead
	// of starving the runner and the servers of other sessions.
	// Pdeathsig: if the runner itself is killed (SIGKILL, OOM), the server
	// goes with it instead of outliving the run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: x.Credential, Pdeathsig: syscall.SIGKILL}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start server: output pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	start := cmd.Start
	if x.Start != nil {
		start = func() error { return x.Start(cmd) }
	}
	if err := start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start server %q: %w", strings.Join(argv, " "), err)
	}
	pw.Close()
	p := &Incarnation{
		cmd:     cmd,
		pid:     cmd.Process.Pid,
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		command: strings.Join(argv, " "),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		pipe:    pr,
		drained: make(chan struct{}),
		started: time.Now(),
		mark:    mark,
		uid:     runsAs(x.Credential),
		release: release,
	}
	go drain(pr, out, p.drained)
	go func() {
		err := cmd.Wait()
		how := "exited"
		if cmd.ProcessState != nil {
			how = cmd.ProcessState.String()
		} else if err != nil {
			how = err.Error()
		}
		p.how = how
		close(p.done)
	}()
	return p, nil
}

// runsAs is the uid that a process started with cred runs as.
func runsAs(cred *syscall.Credential) int {
	if cred == nil {
		return os.Getuid()
	}
	return int(cred.Uid)
}

var prlimitPath = sync.OnceValue(func() string {
	p, err := exec.LookPath("prlimit")
	if err != nil {
		return ""
	}
	return p
})

// withLimits wraps argv so the limits are in force before the server's
// first instruction: prlimit (util-linux) sets them on itself and then
// execs argv; without prlimit, sh's ulimit does the same.
func withLimits(argv []string, x *Spec) []string {
	cpu := int64(0)
	if x.CPULimit > 0 {
		cpu = int64((x.CPULimit + time.Second - 1) / time.Second)
	}
	if p := prlimitPath(); p != "" {
		w := []string{p, fmt.Sprintf("--nofile=%d:%d", x.FDLimit, x.FDLimit)}
		if x.ProcLimit > 0 {
			w = append(w, fmt.Sprintf("--nproc=%d:%d", x.ProcLimit, x.ProcLimit))
		}
		if cpu > 0 {
			w = append(w, fmt.Sprintf("--cpu=%d:%d", cpu, cpu))
		}
		if x.MemoryLimit > 0 {
			w = append(w, fmt.Sprintf("--as=%d:%d", x.MemoryLimit, x.MemoryLimit))
		}
		return append(append(w, "--"), argv...)
	}
	script := fmt.Sprintf("ulimit -n %d", x.FDLimit)
	if x.ProcLimit > 0 {
		script += fmt.Sprintf(" && ulimit -u %d", x.ProcLimit)
	}
	if cpu > 0 {
		script += fmt.Sprintf(" && ulimit -t %d", cpu)
	}
	if x.MemoryLimit > 0 {
		script += fmt.Sprintf(" && ulimit -v %d", (x.MemoryLimit+1023)/1024)
	}
	script += ` && exec "$@"`
	return append([]string{"/bin/sh", "-c", script, "echoconf-server"}, argv...)
}

// startupError is why an exec'd server never became ready.
type startupError struct {
	exited bool   // it ended before accepting
	how    string // its exit status, when exited
	msg    string
}

func (e *startupError) Error() string { return e.msg }

// waitReady dials p's address with backoff until a connection succeeds
// (the server is listening), the process exits, or timeout passes.
func waitReady(ctx context.Context, network string, p *Incarnation, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	backoff := 2 * time.Millisecond
	var lastErr error
	for attempt := 0; attempt < 100000; attempt++ {
		if p.exited() {
			return &startupError{exited: true, how: p.how,
				msg: fmt.Sprintf("the server exited before accepting connections on %s: %s", p.addr, p.how)}
		}
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			break
		}
		err := Ready(ctx, network, p.addr, min(left, 500*time.Millisecond))
		if err == nil {
			return nil
		}
		lastErr = err
		t := time.NewTimer(min(backoff, max(time.Until(deadline), 0)))
		select {
		case <-p.done:
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(backoff*2, 100*time.Millisecond)
	}
	if p.exited() {
		return &startupError{exited: true, how: p.how,
			msg: fmt.Sprintf("the server exited before accepting connections on %s: %s", p.addr, p.how)}
	}
	if ctx.Err() != nil {
		return &startupError{msg: fmt.Sprintf("the run ended while waiting for the server to listen on %s", p.addr)}
	}
	msg := fmt.Sprintf("no connection accepted on %s within %v (the startup timeout)", p.addr, timeout)
	if lastErr != nil {
		msg += ": " + NetErrText(lastErr)
	}
	return &startupError{msg: msg}
}

// NetErrText drops the "dial tcp ADDR:" prefix of a net error.
func NetErrText(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// stop ends p's whole process group: SIGTERM, up to stopGrace for the
// leader to exit, then SIGKILL to the group, to any descendant that left
// it, and to every process that carries p's mark, however it detached (a
// daemon that double-forked and called setsid); then it reaps the leader,
// and the marked processes re-parented to this one (a subreaper), and
// closes the output pipe. It is idempotent and safe to call after the
// process died on its own.
func (p *Incarnation) stop() {
	p.stopOnce.Do(p.doStop)
}

func (p *Incarnation) doStop() {
	defer close(p.stopped)
	defer p.release()
	if p.exited() {
		p.ownExit = p.how
	}
	p.stopping.Store(true)
	strays := descendants(p.pid)
	if !p.exited() {
		_ = syscall.Kill(-p.pid, syscall.SIGTERM)
		t := time.NewTimer(stopGrace)
		select {
		case <-p.done:
		case <-t.C:
		}
		t.Stop()
	}
	p.killGroup(strays)
	reap.Kill(p.mark, p.pid, p.uid, reapTimeout)
	t := time.NewTimer(reapTimeout)
	select {
	case <-p.done:
	case <-t.C:
	}
	t.Stop()
	p.waitGroupGone()
	t = time.NewTimer(drainTimeout)
	select {
	case <-p.drained:
	case <-t.C:
		p.pipe.Close() // a stray holds the pipe; unblock the drainer
		<-p.drained
	}
	t.Stop()
	p.pipe.Close()
}

// groupMayBeReused reports whether p's group ID may now name another
// group: p has been reaped and a process with its number exists, which can
// only be a newcomer (while any member of p's group or session lives, the
// kernel does not reuse the number).
func (p *Incarnation) groupMayBeReused() bool {
	if !p.exited() {
		return false
	}
	_, err := os.Stat("/proc/" + strconv.Itoa(p.pid))
	return err == nil
}

// killGroup SIGKILLs p's process group and the given descendants that are
// no longer in it (a server that called setsid).
func (p *Incarnation) killGroup(strays []procStat) {
	if !p.groupMayBeReused() {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	for _, s := range strays {
		if s.pgid != p.pid && s.state != 'Z' {
			_ = syscall.Kill(s.pid, syscall.SIGKILL)
		}
	}
}

// waitGroupGone waits, bounded, for every member of the killed group to
// vanish. Members reparented to init are reaped by it, asynchronously, so
// this polls; it gives up after a second.
func (p *Incarnation) waitGroupGone() {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 200; i++ {
		if p.groupMayBeReused() {
			return
		}
		if err := syscall.Kill(-p.pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		<-tick.C
	}
}

// Done is closed once the incarnation has ended and been reaped.
func (p *Incarnation) Done() <-chan struct{} { return p.done }

// Ready reports whether a server serves addr, within timeout: over TCP it
// accepts a connection; over UDP it answers a 1-byte datagram, since UDP
// has no accept to wait for.
func Ready(ctx context.Context, network, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	if network != "udp" {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	if err := c.SetDeadline(dl); err != nil {
		return err
	}
	if _, err := c.Write([]byte{'?'}); err != nil {
		return err
	}
	var b [1]byte
	_, err = c.Read(b[:])
	return err
}
