// Package reap finds and kills every process that an untrusted program
// started, however it detached: a child that left the process group, a
// daemon that double-forked and called setsid, and, once the caller is a
// child subreaper, the orphans the kernel re-parents to it.
//
// Two mechanisms, because neither alone is enough:
//   - a mark: a random token put in the program's environment (MarkEnv),
//     which every descendant inherits whatever its parent or session;
//     /proc/PID/environ shows it even after the process was re-parented
//     to init. A process that clears its environment and execs loses it.
//   - ancestry: with Subreaper, orphans re-parent to the caller instead
//     of init, so every descendant, marked or not, has the caller among
//     its ancestors; KillDescendants kills and reaps them all.
//
// It reads /proc and is Linux-only. It never calls wait on -1: it reaps
// only processes it killed and that are not the caller's own exec'd
// children (those are reaped by os/exec).
package reap

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// MarkEnv is the environment variable that carries a mark.
const MarkEnv = "ECHOCONF_MARK"

// NewMark returns a fresh random mark.
func NewMark() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// Env returns the "ECHOCONF_MARK=mark" entry to add to a program's
// environment.
func Env(mark string) string { return MarkEnv + "=" + mark }

// Subreaper makes the calling process a child subreaper
// (PR_SET_CHILD_SUBREAPER): an orphaned descendant is re-parented to it
// instead of to init, so it stays findable, and killable, through the
// parent links. The caller must then reap what it adopts: see Kill and
// KillDescendants.
func Subreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// proc is one process of /proc.
type proc struct {
	pid, ppid, pgid, sid int
	state                byte
}

func (p proc) live() bool { return p.state != 'Z' && p.state != 'X' }

// scan reads /proc/*/stat; processes that vanish meanwhile are left out.
func scan() []proc {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(1 << 20)
	out := make([]proc, 0, len(names))
	for _, n := range names {
		if n == "" || n[0] < '0' || n[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + n + "/stat")
		if err != nil {
			continue
		}
		if p, ok := parseStat(b); ok {
			out = append(out, p)
		}
	}
	return out
}

// parseStat parses "pid (comm) state ppid pgrp session ...": comm may hold spaces
// and parentheses, so the fields are found after the last ')'.
func parseStat(b []byte) (proc, bool) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open <= 0 || end < open {
		return proc{}, false
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return proc{}, false
	}
	f := bytes.Fields(b[end+1:])
	if len(f) < 4 || len(f[0]) != 1 {
		return proc{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgid, err2 := strconv.Atoi(string(f[2]))
	sid, err3 := strconv.Atoi(string(f[3]))
	if err1 != nil || err2 != nil || err3 != nil {
		return proc{}, false
	}
	return proc{pid: pid, ppid: ppid, pgid: pgid, sid: sid, state: f[0][0]}, true
}

// marked reports whether pid's environment holds the mark.
func marked(pid int, entry []byte) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for e := range bytes.SplitSeq(b, []byte{0}) {
		if bytes.Equal(e, entry) {
			return true
		}
	}
	return false
}

// mayCarry reports whether p can be the root of a tree of marked
// processes, so that its environment is worth reading: it is in leader's
// session or process group, or it is an orphan (its parent is init, the
// caller as a subreaper, or outside the PID namespace). Every other marked
// process descends from one of these, and closure finds it by its parent.
// Reading the environment of an unrelated process is not only wasted: it
// waits for that process's memory map, which a process that forks without
// end (a fork bomb graded beside) holds nearly all the time.
func mayCarry(p proc, leader, self int) bool {
	return (leader > 0 && (p.sid == leader || p.pgid == leader)) || p.ppid <= 1 || p.ppid == self
}

// closure returns the processes in roots and all their descendants.
func closure(procs []proc, in func(proc) bool) []proc {
	children := make(map[int][]proc)
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	seen := make(map[int]bool)
	var out, queue []proc
	for _, p := range procs {
		if in(p) {
			seen[p.pid] = true
			queue = append(queue, p)
		}
	}
	for len(queue) > 0 && len(out) <= len(procs) {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		for _, c := range children[p.pid] {
			if !seen[c.pid] {
				seen[c.pid] = true
				queue = append(queue, c)
			}
		}
	}
	return out
}

// RealUID returns the real uid of pid, from /proc/PID/status, or -1 when it
// cannot be read (the process is gone). Unlike the environment, the status
// file is read without waiting for the process's memory map.
func RealUID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		if rest, ok := bytes.CutPrefix(line, []byte("Uid:")); ok {
			f := bytes.Fields(rest)
			if len(f) == 0 {
				return -1
			}
			uid, err := strconv.Atoi(string(f[0]))
			if err != nil {
				return -1
			}
			return uid
		}
	}
	return -1
}

// Kill SIGKILLs every process that carries mark, and every descendant of
// one (it reads the environment only of the processes mayCarry names
// whose real uid is uid, the user the program was started as: a process of
// another user cannot have inherited the mark without privileges, and a
// fork bomb of another user, graded beside, would hold up every read; -1
// reads them whatever their user),
// round after round until none is left alive or timeout passes. It
// reaps those of them that were re-parented to the caller, except leader:
// the caller's own exec'd child, which os/exec reaps (0 for none). It also
// reaps the zombies re-parented to the caller from the session that leader
// leads (the finished children of a server that died: a zombie's
// environment is empty, so it carries no mark). Only zombies are taken by
// session, never a live process: once the leader is reaped and its session
// is empty, its number may lead another session. It returns how many were
// still alive at the end.
func Kill(mark string, leader, uid int, timeout time.Duration) int {
	entry := []byte(Env(mark))
	self := os.Getpid()
	return sweep(timeout, leader, func(procs []proc) []proc {
		return closure(procs, func(p proc) bool {
			switch {
			case p.pid == self:
				return false
			case leader > 0 && p.pid != leader && p.sid == leader && p.ppid == self && p.state == 'Z':
				return true
			}
			return p.live() && mayCarry(p, leader, self) && (uid < 0 || RealUID(p.pid) == uid) && marked(p.pid, entry)
		})
	})
}

// KillDescendants SIGKILLs every descendant of the calling process, the
// re-parented orphans of a subreaper included, until none is left or
// timeout passes, and reaps them. It is for the end of a program, when
// every child it started itself has been waited for: it would otherwise
// steal their exit statuses from os/exec. It returns how many were still
// alive at the end.
func KillDescendants(timeout time.Duration) int {
	self := os.Getpid()
	return sweep(timeout, 0, func(procs []proc) []proc {
		return closure(procs, func(p proc) bool { return p.ppid == self })
	})
}

// sweep kills what find returns until it returns nothing alive, and reaps
// every child of the caller (but keep) that find ever returned: a process
// found as a descendant and re-parented to the caller once its parent was
// killed is reaped too.
func sweep(timeout time.Duration, keep int, find func([]proc) []proc) int {
	self := os.Getpid()
	deadline := time.Now().Add(timeout)
	seen := make(map[int]bool)
	killed := make(map[int]bool)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	alive := 0
	for round := 0; ; round++ {
		procs := scan()
		found := find(procs)
		for _, p := range found {
			seen[p.pid] = true
		}
		for _, p := range procs {
			if p.ppid == self && p.pid != keep && seen[p.pid] {
				killed[p.pid] = true
			}
		}
		alive = 0
		for _, p := range found {
			if p.pid == self || !p.live() {
				continue
			}
			alive++
			if p.pgid == p.pid && p.pgid > 1 {
				_ = syscall.Kill(-p.pgid, syscall.SIGKILL) // a whole group at once outruns a fork bomb
			}
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
		reapDead(killed)
		if (alive == 0 && len(killed) == 0) || time.Now().After(deadline) {
			return alive
		}
		<-tick.C
	}
}

// reapDead reaps, without blocking, the children in pids that have ended,
// and forgets those that are gone.
func reapDead(pids map[int]bool) {
	for pid := range pids {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if got == pid || errors.Is(err, unix.ECHILD) {
			delete(pids, pid)
		}
	}
}
