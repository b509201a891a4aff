package process

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/echoconf/echoconf/spec"
)

// view is the spec.Process of one incarnation of an exec'd server. It
// reads /proc, so OpenFDs and Zombies work on Linux only.
type view struct {
	p *Incarnation
	s *Supervisor
}

// Deaths describes every death of the server so far, across restarts.
func (v view) Deaths() []string {
	var out []string
	for _, d := range v.s.Deaths() {
		out = append(out, d.String())
	}
	return out
}

// PID returns the server's process ID, which is also its process group ID.
func (v view) PID() int { return v.p.pid }

// Exited reports whether this incarnation has ended, and how. It never blocks.
func (v view) Exited() (bool, string) {
	select {
	case <-v.p.done:
		return true, v.p.how
	default:
		return false, ""
	}
}

// OpenFDs counts the entries of /proc/PID/fd.
func (v view) OpenFDs() (int, error) {
	if ok, how := v.Exited(); ok {
		return 0, fmt.Errorf("count open files of process %d: it has exited (%s)", v.p.pid, how)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/fd", v.p.pid))
	if err != nil {
		return 0, fmt.Errorf("count open files of process %d: %w", v.p.pid, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return 0, fmt.Errorf("count open files of process %d: %w", v.p.pid, err)
	}
	return len(names), nil
}

// Zombies counts the processes whose parent is the server and whose state
// is Z, by scanning /proc/*/stat.
func (v view) Zombies() (int, error) {
	procs, err := scanProcs()
	if err != nil {
		return 0, fmt.Errorf("count zombies of process %d: %w", v.p.pid, err)
	}
	n := 0
	for _, p := range procs {
		if p.ppid == v.p.pid && p.state == 'Z' {
			n++
		}
	}
	return n, nil
}

// procStat is the part of /proc/PID/stat the runner uses.
type procStat struct {
	pid, ppid, pgid int
	state           byte
}

// procScanLimit bounds how many /proc entries one scan reads.
const procScanLimit = 1 << 20

var procScanMu sync.Mutex

// scanProcs reads /proc/*/stat for every process. Processes that vanish
// during the scan are left out.
func scanProcs() ([]procStat, error) {
	procScanMu.Lock()
	defer procScanMu.Unlock()
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(procScanLimit)
	if err != nil && len(names) == 0 {
		return nil, err
	}
	out := make([]procStat, 0, len(names))
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue
		}
		if ps, ok := parseStat(b); ok {
			out = append(out, ps)
		}
	}
	return out, nil
}

// parseStat parses "pid (comm) state ppid pgrp ..."; comm may hold spaces
// and parentheses, so the fields are found after the last ')'.
func parseStat(b []byte) (procStat, bool) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open <= 0 || end < open {
		return procStat{}, false
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return procStat{}, false
	}
	f := bytes.Fields(b[end+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return procStat{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgid, err2 := strconv.Atoi(string(f[2]))
	if err1 != nil || err2 != nil {
		return procStat{}, false
	}
	return procStat{pid: pid, ppid: ppid, pgid: pgid, state: f[0][0]}, true
}

// descendants returns every live descendant of pid, found through the
// parent links in /proc.
func descendants(pid int) []procStat {
	procs, err := scanProcs()
	if err != nil {
		return nil
	}
	children := make(map[int][]procStat)
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	var out []procStat
	queue := []int{pid}
	for len(queue) > 0 && len(out) < len(procs) {
		next := queue[0]
		queue = queue[1:]
		for _, c := range children[next] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}

// View returns what checks may observe of incarnation p: the spec.Process
// whose Deaths covers every incarnation of s.
func (s *Supervisor) View(p *Incarnation) spec.Process { return view{p: p, s: s} }
