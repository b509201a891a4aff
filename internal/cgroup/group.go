package cgroup

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// cpuPeriod is the period over which Limits.CPUs is enforced.
const cpuPeriod = 100 * time.Millisecond

// Limits bound a group as a whole: every process and thread in it together.
// A zero field sets no limit.
type Limits struct {
	// Pids bounds the processes and threads alive at once (pids.max). A
	// fork or thread creation beyond it fails with EAGAIN.
	Pids int
	// CPUs bounds the CPU time the group gets per unit of wall-clock time
	// (1.5 is one and a half cores), enforced over every 100 ms.
	CPUs float64
	// Memory bounds the memory the group uses, in bytes (memory.max; v1:
	// memory.limit_in_bytes); past it the kernel reclaims, then kills a
	// process of the group. Where the memory controller cannot be used it
	// is not enforced, and MemoryLimited says so.
	Memory int64
}

// Group is one control group with its limits. Its methods are safe for
// concurrent use.
type Group struct {
	version int
	name    string
	// dirs are the group's directories: one (v2), or one per v1 hierarchy.
	dirs []string
	// released is closed by Close, after killing the group.
	released chan struct{}
	// cpuDir, pidsDir and memDir hold each controller's files ("" for
	// memory when it is not used); pidsDir also lists the processes.
	cpuDir, pidsDir, memDir string
	memReason               string
	mu                      sync.Mutex
	closed                  bool
	// refusedInKills counts the forks refused while Kill had closed the
	// group to forks, which Stats leaves out.
	refusedInKills int
}

// seq numbers the groups this process makes, so their names never repeat.
var seq atomic.Int64

// Available returns the cgroup version that groups are made with here (1
// or 2), or why none can be made.
func Available() (int, error) {
	h, err := discover()
	if err != nil {
		return 0, err
	}
	return h.version, nil
}

// New makes a group with limits l. name (a submission's name, say) is part
// of the group's directory name, cleaned, so that an administrator can tell
// whose it is. The caller must Close it.
func New(name string, l Limits) (*Group, error) {
	h, err := discover()
	if err != nil {
		return nil, err
	}
	leaf := fmt.Sprintf("echoconf-%d-%d-%s", os.Getpid(), seq.Add(1), clean(name))
	g := &Group{version: h.version, name: leaf, released: make(chan struct{})}
	if h.version == 2 {
		d := filepath.Join(h.v2, leaf)
		// memDir is cleared below when memory is not enabled for children.
		g.cpuDir, g.pidsDir, g.memDir = d, d, d
	} else {
		g.cpuDir = filepath.Join(h.cpu, leaf)
		g.pidsDir = filepath.Join(h.pids, leaf)
		if h.memory != "" {
			g.memDir = filepath.Join(h.memory, leaf)
		} else {
			g.memReason = h.memoryReason
		}
	}
	for _, d := range []string{g.cpuDir, g.pidsDir, g.memDir} {
		if d == "" || (len(g.dirs) > 0 && g.dirs[len(g.dirs)-1] == d) {
			continue
		}
		if err := os.Mkdir(d, 0o755); err != nil {
			g.remove()
			return nil, fmt.Errorf("make cgroup: %w", err)
		}
		g.dirs = append(g.dirs, d)
	}
	if h.version == 2 {
		if _, err := os.Stat(filepath.Join(g.memDir, "memory.max")); err != nil {
			g.memDir, g.memReason = "", "the memory controller is not enabled for "+h.v2
		}
	}
	if err := g.setLimits(l); err != nil {
		g.remove()
		return nil, err
	}
	return g, nil
}

// clean keeps the letters, digits, dots, dashes and underscores of name,
// at most 40 of them.
func clean(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "group"
	}
	return b.String()
}

// setLimits writes l into the group's controllers.
func (g *Group) setLimits(l Limits) error {
	set := func(dir, file, value string) error {
		if err := writeFile(filepath.Join(dir, file), value); err != nil {
			return fmt.Errorf("set cgroup limit %s: %w", file, err)
		}
		return nil
	}
	if l.Pids > 0 {
		if err := set(g.pidsDir, "pids.max", strconv.Itoa(l.Pids)); err != nil {
			return err
		}
	}
	if l.CPUs > 0 {
		period := cpuPeriod.Microseconds()
		quota := max(int64(l.CPUs*float64(period)), 1000)
		if g.version == 2 {
			if err := set(g.cpuDir, "cpu.max", fmt.Sprintf("%d %d", quota, period)); err != nil {
				return err
			}
		} else {
			if err := set(g.cpuDir, "cpu.cfs_period_us", strconv.FormatInt(period, 10)); err != nil {
				return err
			}
			if err := set(g.cpuDir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)); err != nil {
				return err
			}
		}
	}
	if l.Memory > 0 && g.memDir != "" {
		v := strconv.FormatInt(l.Memory, 10)
		if g.version == 2 {
			if err := set(g.memDir, "memory.max", v); err != nil {
				return err
			}
			_ = writeFile(filepath.Join(g.memDir, "memory.swap.max"), "0") // absent without swap accounting
		} else {
			if err := set(g.memDir, "memory.limit_in_bytes", v); err != nil {
				return err
			}
			_ = writeFile(filepath.Join(g.memDir, "memory.memsw.limit_in_bytes"), v) // absent without swap accounting
		}
	}
	return nil
}

// Name is the group's directory name.
func (g *Group) Name() string { return g.name }

// MemoryLimited reports whether Limits.Memory is enforced and, if not, why.
func (g *Group) MemoryLimited() (bool, string) { return g.memDir != "", g.memReason }

// Start starts cmd inside the group: the process is in it from its first
// instruction, and so is everything it starts. Start returns once the
// process runs, as cmd.Start does; it sets cmd.SysProcAttr fields of its
// own (v2: UseCgroupFD) and keeps the others.
func (g *Group) Start(cmd *exec.Cmd) error {
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if closed {
		return errors.New("start in cgroup: the group is closed")
	}
	if g.version == 2 {
		return g.startV2(cmd)
	}
	return g.startV1(cmd)
}

// startV2 starts cmd with clone3(CLONE_INTO_CGROUP).
func (g *Group) startV2(cmd *exec.Cmd) error {
	fd, err := syscall.Open(g.pidsDir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup: %w", err)
	}
	defer syscall.Close(fd)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = fd
	return cmd.Start()
}

// startV1 forks cmd from an OS thread that is moved into the group's
// hierarchies for the moment of the fork (a v1 cgroup holds threads, and a
// child starts in its forking thread's cgroup), then moved back.
//
// The thread must live on: the kernel sends a child's Pdeathsig when the
// thread that forked it ends, not the process. So it goes back to the
// runtime's pool; if it cannot be moved back, it stays locked to a goroutine
// that waits for Close, which kills the group first.
func (g *Group) startV1(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		tid := strconv.Itoa(syscall.Gettid())
		err := moveThread(tid, g.dirs)
		if err == nil {
			err = cmd.Start()
		}
		parents := make([]string, len(g.dirs))
		for i, d := range g.dirs {
			parents[i] = filepath.Dir(d) // this process's own cgroup there
		}
		back := moveThread(tid, parents)
		errc <- err
		if back != nil {
			<-g.released
		}
		runtime.UnlockOSThread()
	}()
	return <-errc
}

// moveThread writes tid into the tasks file of each of dirs.
func moveThread(tid string, dirs []string) error {
	for _, d := range dirs {
		if err := writeFile(filepath.Join(d, "tasks"), tid); err != nil {
			return fmt.Errorf("move the starting thread to cgroup %s: %w", d, err)
		}
	}
	return nil
}

// PIDs lists the live processes in the group (not zombies, which hold
// nothing but their exit status).
func (g *Group) PIDs() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(g.pidsDir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("list cgroup processes: %w", err)
	}
	var pids []int
	self := os.Getpid()
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 || pid == self {
			continue // self: the starting thread, for a moment
		}
		if zombie(pid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// zombie reports whether pid has exited and waits to be reaped (or is gone).
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] == 'Z' || b[i+2] == 'X'
}

// Kill SIGKILLs every process in the group, again and again until none is
// left or timeout passes, and returns how many are still alive then. It
// first sets pids.max to 0, so that no process of the group can fork any
// more: a fork bomb then dies in a round or two, instead of refilling the
// group as the rounds empty it and, meanwhile, leaving a stream of orphans
// that holds up every /proc reader on the machine. v2 also kills the whole
// group at once where the kernel has cgroup.kill. Kill then restores
// pids.max, so the group can be used again.
func (g *Group) Kill(timeout time.Duration) (int, error) {
	defer g.closeToForks()()
	if g.version == 2 {
		_ = writeFile(filepath.Join(g.pidsDir, "cgroup.kill"), "1") // Linux 5.14+; else the rounds below
	}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for round := 0; round < 100000; round++ {
		pids, err := g.PIDs()
		if err != nil {
			return 0, err
		}
		if len(pids) == 0 {
			return 0, nil
		}
		if time.Now().After(deadline) {
			return len(pids), nil
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		<-tick.C
	}
	pids, err := g.PIDs()
	return len(pids), err
}

// closeToForks sets the group's pids.max to 0 and returns the function
// that restores it and adds the forks refused meanwhile to refusedInKills.
// Both are best effort: Kill's rounds kill a bomb without them, only
// more slowly.
func (g *Group) closeToForks() (reopen func()) {
	maxFile := filepath.Join(g.pidsDir, "pids.max")
	limit, err := os.ReadFile(maxFile)
	if err != nil {
		return func() {}
	}
	before := g.forksRefused()
	if writeFile(maxFile, "0") != nil {
		return func() {}
	}
	return func() {
		during := g.forksRefused() - before
		_ = writeFile(maxFile, strings.TrimSpace(string(limit)))
		g.mu.Lock()
		g.refusedInKills += max(during, 0)
		g.mu.Unlock()
	}
}

// Close kills what is left in the group (bounded by 5 seconds) and removes
// it. It returns an error when processes survive or the group cannot be
// removed; calling it again retries.
func (g *Group) Close() error {
	left, err := g.Kill(5 * time.Second)
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.released)
	}
	g.mu.Unlock()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if left > 0 {
		return fmt.Errorf("close cgroup %s: %d processes survive SIGKILL", g.name, left)
	}
	return g.remove()
}

// remove removes the group's directories, retrying for up to a second
// while the kernel still counts exiting processes in them.
func (g *Group) remove() error {
	var errs []error
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for _, d := range g.dirs {
		var err error
		for i := 0; i < 200; i++ { // the kernel gives no event for this: poll, bounded
			err = os.Remove(d)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				err = nil
				break
			}
			if !errors.Is(err, syscall.EBUSY) {
				break
			}
			<-tick.C
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup: %w", err))
		}
	}
	return errors.Join(errs...)
}
