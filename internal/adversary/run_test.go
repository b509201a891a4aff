package adversary_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"

	"github.com/echoconf/echoconf/internal/adversary"
)

// buildClient compiles p into dir with gcc (or $CC), warnings as errors,
// in its own process group, killed with it when ctx ends.
func buildClient(ctx context.Context, m *clientManifest, p clientProgram, dir string) (string, error) {
	out := filepath.Join(dir, p.Name)
	args := append([]string{"-Wall", "-Wextra", "-Werror", "-O2"}, p.CFlags...)
	args = append(args, "-o", out)
	for _, s := range p.Sources {
		args = append(args, filepath.Join(m.Dir, filepath.FromSlash(s)))
	}
	cmd := exec.CommandContext(ctx, compiler(), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var diag bytes.Buffer
	cmd.Stdout, cmd.Stderr = &diag, &diag
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", p.Name, err, diag.Bytes())
	}
	return out, nil
}

// expandRun turns p's run template into argv. The template is split on
// spaces before the placeholders are filled in, so a value never splits.
func expandRun(tmpl, bin, host, port, message string) []string {
	r := strings.NewReplacer("{bin}", bin, "{host}", host, "{port}", port, "{message}", message)
	var argv []string
	for _, f := range strings.Fields(tmpl) {
		argv = append(argv, r.Replace(f))
	}
	return argv
}

// runClient runs the client bin against a fresh adversary configured by
// rs, with ex as its input, in its own process group. It kills the group
// at rs.limit, and reaps it in any case.
//
// The client's stdin and stdout are files in dir, so that megabytes go
// from file to socket to file without passing through this process.
func runClient(dir, bin string, p clientProgram, rs runSpec, ex exchange) outcome {
	o := outcome{run: rs.name, runnable: -1, cpu: -1}
	srv, err := adversary.Listen(rs.cfg)
	if err != nil {
		o.err = err
		return o
	}
	defer srv.Close()

	cmd := exec.Command(bin)
	cmd.Args = expandRun(p.Run, bin, srv.Host(), srv.Port(), ex.message)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	switch {
	case ex.stdin != nil && p.TTY:
		tty, stop, err := typeOnTerminal(ex.stdin)
		if err != nil {
			o.err = err
			return o
		}
		defer stop()
		cmd.Stdin = tty
	case ex.stdin != nil:
		in, err := tempFile(dir, p.Name+"-"+rs.name+"-*.in", ex.stdin)
		if err != nil {
			o.err = err
			return o
		}
		defer in.Close()
		cmd.Stdin = in
	}
	stdout, err := tempFile(dir, p.Name+"-"+rs.name+"-*.out", nil)
	if err != nil {
		o.err = err
		return o
	}
	defer stdout.Close()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	cmd.WaitDelay = 2 * time.Second // bounds the stderr copier after a kill
	start := time.Now()
	if err := cmd.Start(); err != nil {
		o.err = err
		return o
	}
	pid := cmd.Process.Pid
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // its outcome is read from ProcessState
		close(done)
	}()
	limit := time.NewTimer(rs.limit)
	defer limit.Stop()

	if rs.sample {
		o.runnable, o.cpu = sampleAfterFIN(srv, pid, done)
	}
	o.exited = waitIdle(done, limit.C, stdout, rs.idle)
	if !o.exited {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
	o.elapsed = time.Since(start)
	_ = syscall.Kill(-pid, syscall.SIGKILL) // anything it left in its group
	o.leftovers = !errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH)
	o.code = cmd.ProcessState.ExitCode()
	o.stderr = stderr.Bytes()
	if o.stdout, err = os.ReadFile(stdout.Name()); err != nil {
		o.err = err
		return o
	}

	if srv.Accepted() > 0 {
		// The client is gone, so its connection ends at once.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		recs, err := srv.Wait(ctx, 1)
		if err != nil {
			o.err = err
			return o
		}
		o.connected, o.rec = true, recs[0]
	}
	return o
}

// waitIdle waits for done, and reports true if it came before limit and
// before the file stdout stayed the same size for idle (when idle is set).
func waitIdle(done <-chan struct{}, limit <-chan time.Time, stdout *os.File, idle time.Duration) bool {
	var tick <-chan time.Time
	if idle > 0 {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	size, since := int64(0), time.Now()
	for {
		select {
		case <-done:
			return true
		case <-limit:
			return false
		case <-tick:
			st, err := stdout.Stat()
			if err != nil {
				return false
			}
			if st.Size() != size {
				size, since = st.Size(), time.Now()
			} else if time.Since(since) > idle {
				return false
			}
		}
	}
}

// typeOnTerminal opens a pty and types input on it, then ^D (end of file
// at the start of a line), for a client to read from the terminal it
// returns. The pty's echo of what was typed is read and discarded. stop
// closes the pty and returns once the discarding goroutine has.
func typeOnTerminal(input []byte) (tty *os.File, stop func(), err error) {
	master, tty, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open a pty: %w", err)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, master) // ends when master is closed
	}()
	stop = func() {
		_ = tty.Close()
		_ = master.Close()
		<-drained
	}
	if _, err := master.Write(append(bytes.Clone(input), 4)); err != nil {
		stop()
		return nil, nil, fmt.Errorf("type on the pty: %w", err)
	}
	return tty, stop, nil
}

// tempFile creates a file in dir holding data, open for reading from its
// start (or for writing, when data is nil).
func tempFile(dir, pattern string, data []byte) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if data == nil {
		return f, nil
	}
	if _, err := f.Write(data); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return f, nil
}

// sampleAfterFIN waits until the server has sent its FIN (at most 2 s),
// lets 200 ms pass, and measures the client over the next second: the
// share of the time it ran or waited for a CPU (/proc/PID/schedstat, so a
// busy machine does not hide a spinning client), and the share it ran
// (utime+stime from /proc/PID/stat). A client that ends first measures 0.
func sampleAfterFIN(srv *adversary.Server, pid int, done <-chan struct{}) (runnable, cpu float64) {
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-done:
			return false
		case <-t.C:
			return true
		}
	}
	for i := 0; i < 100 && srv.Accepted() == 0; i++ {
		if !wait(20 * time.Millisecond) {
			return 0, 0
		}
	}
	if !wait(200 * time.Millisecond) {
		return 0, 0
	}
	r1, c1, err1 := procTimes(pid)
	t1 := time.Now()
	if !wait(time.Second) {
		return 0, 0
	}
	r2, c2, err2 := procTimes(pid)
	wall := time.Since(t1)
	if err1 != nil || err2 != nil {
		return -1, -1
	}
	return float64(r2-r1) / float64(wall), float64(c2-c1) / float64(wall)
}

// procTimes returns how long pid has run or waited to run, and how long it
// has run (utime+stime, in USER_HZ ticks of 10 ms).
func procTimes(pid int) (runnable, cpu time.Duration, err error) {
	sched, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(sched))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("schedstat: %q", sched)
	}
	run, err1 := strconv.ParseInt(f[0], 10, 64)
	waited, err2 := strconv.ParseInt(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, 0, fmt.Errorf("stat: %q", stat)
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	return time.Duration(run + waited), time.Duration(ut+st) * 10 * time.Millisecond, nil
}
