package grade

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/echoconf/echoconf/internal/reap"
)

// proc is one process seen in /proc.
type proc struct {
	pid, ppid, pgid, uid int
	state                byte
}

// listProcs reads every process's pid, parent, group, real uid and state
// from /proc. Processes that vanish while being read are left out.
func listProcs() []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) {
			continue
		}
		f := strings.Fields(string(stat[i+2:]))
		if len(f) < 3 {
			continue
		}
		p := proc{pid: pid, state: f[0][0]}
		p.ppid, _ = strconv.Atoi(f[1])
		p.pgid, _ = strconv.Atoi(f[2])
		if p.uid = reap.RealUID(pid); p.uid < 0 {
			continue // it vanished
		}
		out = append(out, p)
	}
	return out
}

// leftovers returns the live (non-zombie) processes that belong to a
// submission: members of one of groups, or, when the uid is dedicated, any
// process of uid. The grader itself is never included.
func leftovers(groups []int, id identity) []proc {
	self := os.Getpid()
	var out []proc
	for _, p := range listProcs() {
		if p.pid == self || p.state == 'Z' || p.state == 'X' {
			continue
		}
		in := id.dedicated && p.uid == id.uid
		for _, g := range groups {
			if g > 1 && p.pgid == g {
				in = true
			}
		}
		if in {
			out = append(out, p)
		}
	}
	return out
}

// sweep kills what leftovers finds, repeatedly, until nothing is left or a
// bound of 5 seconds passes, and returns what is still running then. A
// process group is killed as a whole (kill(-pgid) signals every member at
// once, so a fork bomb cannot outrun it); a dedicated uid's processes are
// killed one by one, and a fork bomb's children are killed by the next
// round.
func sweep(groups []int, id identity) []proc {
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		left := leftovers(groups, id)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		for _, g := range groups {
			if g > 1 {
				_ = syscall.Kill(-g, syscall.SIGKILL)
			}
		}
		for _, p := range left {
			if p.pgid > 1 {
				_ = syscall.Kill(-p.pgid, syscall.SIGKILL)
			}
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
		<-tick.C
	}
}

// countUserTasks counts the processes and threads whose real uid is uid,
// which is what RLIMIT_NPROC limits.
func countUserTasks(uid int) int {
	n := 0
	for _, p := range listProcs() {
		if p.uid != uid {
			continue
		}
		tasks, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(p.pid), "task"))
		if err != nil {
			n++
			continue
		}
		n += len(tasks)
	}
	return n
}

// boundedBuffer keeps the first limit bytes written and counts the rest.
// It is safe for concurrent writers (stdout and stderr of one process).
type boundedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	limit   int
	dropped int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.limit - b.buf.Len()
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += int64(len(p) - max(room, 0))
	return len(p), nil
}

// String returns what was kept, with a note of how much was dropped.
func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if b.dropped > 0 {
		s += fmt.Sprintf("\n[%d more bytes of output dropped]\n", b.dropped)
	}
	return s
}

// limitedCommand returns argv wrapped by prlimit (util-linux) so that the
// limits hold from the first instruction; without prlimit, by sh's ulimit
// for the limits every sh has.
func limitedCommand(argv []string, o Options, nproc int) []string {
	cpu := int64((o.CPULimit + time.Second - 1) / time.Second)
	if p, err := exec.LookPath("prlimit"); err == nil {
		return append([]string{p,
			fmt.Sprintf("--cpu=%d:%d", cpu, cpu),
			fmt.Sprintf("--as=%d:%d", o.MemoryLimit, o.MemoryLimit),
			fmt.Sprintf("--nproc=%d:%d", nproc, nproc),
			fmt.Sprintf("--nofile=%d:%d", o.FDLimit, o.FDLimit),
			fmt.Sprintf("--fsize=%d:%d", DefaultFileLimit, DefaultFileLimit),
			"--"}, argv...)
	}
	script := fmt.Sprintf("ulimit -t %d && ulimit -v %d && ulimit -n %d && ulimit -f %d && exec \"$@\"",
		cpu, (o.MemoryLimit+1023)/1024, o.FDLimit, DefaultFileLimit/512)
	return append([]string{"/bin/sh", "-c", script, "echoconf-build"}, argv...)
}

// errTooLarge rejects a submission beyond the copy bounds.
var errTooLarge = errors.New("submission too large")

// copySubmission copies src into dst: directories and regular files only
// (symlinks and devices are skipped, so a submission cannot point the build
// at the grader's files), at most maxSubmissionFiles files and
// maxSubmissionBytes bytes.
func copySubmission(src, dst string) error {
	var files int
	var total int64
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if rel != "." && (d.Name() == ".git" || d.Name() == ".svn") {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			files++
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
			if files > maxSubmissionFiles || total > maxSubmissionBytes {
				return fmt.Errorf("%w: more than %d files or %d MiB", errTooLarge, maxSubmissionFiles, maxSubmissionBytes>>20)
			}
			return copyFile(path, target, info.Mode().Perm())
		}
		return nil // symlinks, devices, sockets: not copied
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(in, maxSubmissionBytes)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// chownTree gives the tree to uid:gid so that an unprivileged build can
// write its objects there.
func chownTree(root string, uid, gid int) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}
