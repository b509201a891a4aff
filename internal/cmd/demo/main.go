// Command demo is what `make demo` runs: it starts the reference echo server
// (both concurrency models) and the classic C server on free loopback ports,
// exchanges messages with the reference client, runs the conformance suite
// against each server, shows the diagnosis of a faulty C server, and stops
// every process it started.
//
// It expects the binaries that `make build` puts in -bin. Exit status: 0 when
// every step behaved as expected, 1 when one did not, 2 on bad flags.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/echoconf/echoconf/internal/stdio"
)

func main() {
	stdout, stderr := stdio.Detach()
	os.Exit(run(os.Args[1:], stdout, stderr))
}

// step timeouts: generous, since the machine may be loaded.
const (
	startTimeout = 10 * time.Second
	clientTime   = 20 * time.Second
	checkTime    = 3 * time.Minute
)

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin", "directory holding the built binaries")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	// A closed stdout (demo | head) is a write error on it, which stops the
	// demo like an interrupt, so the servers are still stopped. SIGPIPE is
	// not asked for: an EPIPE on any socket would then look like Ctrl-C.
	sctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancelCause(sctx)
	defer cancel(nil)
	stdout = stdio.Watch(stdout, "stdout", cancel)

	d := &demo{bin: *bin, out: stdout}
	defer d.stopAll()
	if err := d.run(ctx); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	return 0
}

type demo struct {
	bin   string
	out   io.Writer
	procs []*exec.Cmd
}

func (d *demo) path(name string) string { return filepath.Join(d.bin, name) }

func (d *demo) printf(format string, a ...any) { fmt.Fprintf(d.out, format, a...) }

func (d *demo) run(ctx context.Context) error {
	for _, name := range []string{"echoconf", "echo-server", "echo-client", "c/echo-server", "c/echo-client"} {
		if _, err := os.Stat(d.path(name)); err != nil {
			return fmt.Errorf("missing binary (run make build first): %w", err)
		}
	}
	type server struct{ name, addr string }
	var servers []server

	d.printf("== Starting servers on free loopback ports\n")
	for _, model := range []string{"goroutine", "process"} {
		addr, err := d.startGoServer(ctx, model)
		if err != nil {
			return fmt.Errorf("start reference server (%s model): %w", model, err)
		}
		servers = append(servers, server{"reference server, " + model + " model", addr})
	}
	addr, err := d.startCServer(ctx, d.path("c/echo-server"))
	if err != nil {
		return fmt.Errorf("start C server: %w", err)
	}
	servers = append(servers, server{"classic C fork server", addr})
	for _, s := range servers {
		d.printf("   %-34s %s\n", s.name, s.addr)
	}

	message := "hello, echo\nall bytes come back, in order\n"
	d.printf("\n== Exchanging messages with the reference client (echo-client -verify)\n")
	for _, s := range servers {
		got, err := d.client(ctx, d.path("echo-client"), []string{"-verify", s.addr}, message)
		if err != nil {
			return fmt.Errorf("echo-client against %s: %w", s.name, err)
		}
		d.printf("   %-34s sent %d bytes, got %d back: %q\n", s.name, len(message), len(got), got)
	}
	got, err := d.client(ctx, d.path("c/echo-client"), []string{"127.0.0.1", portOf(servers[0].addr)}, message)
	if err != nil {
		return fmt.Errorf("C echo-client against the reference server: %w", err)
	}
	d.printf("   %-34s sent %d bytes, got %d back\n", "C client -> reference server", len(message), len(got))

	d.printf("\n== Running the conformance suite against each server\n")
	for _, s := range servers {
		d.printf("\n-- echoconf check %s   (%s)\n", s.addr, s.name)
		code, err := d.echoconf(ctx, "check", "--no-color", s.addr)
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("echoconf check against %s exited %d, want 0", s.name, code)
		}
	}

	cserver := d.path("c/echo-server")
	d.printf("\n-- echoconf check --exec '%s {port}'   (exec mode: echoconf starts the server and also checks its process)\n", cserver)
	code, err := d.echoconf(ctx, "check", "--no-color", "--exec", cserver+" {port}")
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("echoconf check --exec against the C server exited %d, want 0", code)
	}

	faulty := filepath.Join(d.bin, "c", "faulty-upcase")
	d.printf("\n== What a diagnosis looks like: a faulty server that upper-cases its echo\n")
	if err := buildC(ctx, filepath.Join("testdata", "c", "faulty", "upcase.c"), faulty); err != nil {
		d.printf("   (skipped: %v)\n", err)
		return nil
	}
	d.printf("\n-- echoconf check --run 'basic/*' --exec '%s {port}'\n", faulty)
	code, err = d.echoconf(ctx, "check", "--no-color", "--run", "basic/*", "--exec", faulty+" {port}")
	if err != nil {
		return err
	}
	if code != 1 {
		return fmt.Errorf("echoconf check against the faulty server exited %d, want 1", code)
	}
	d.printf("\n== Done: every server above was stopped; exit code 1 for the faulty one is the expected verdict.\n")
	return nil
}

// startGoServer starts the reference server on port 0 and reads the address
// from its "listening on ADDR" line.
func (d *demo) startGoServer(ctx context.Context, model string) (string, error) {
	cmd := exec.Command(d.path("echo-server"), "-addr", "127.0.0.1:0", "-model", model)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := d.start(cmd); err != nil {
		return "", err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
		}
		if first {
			close(lines)
		}
	}()
	select {
	case line, ok := <-lines:
		addr, found := strings.CutPrefix(line, "listening on ")
		if !ok || !found {
			return "", fmt.Errorf("unexpected first line %q", line)
		}
		return addr, nil
	case <-time.After(startTimeout):
		return "", errors.New("no \"listening on\" line within " + startTimeout.String())
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// startCServer starts a C server on a free port and waits until it accepts.
func (d *demo) startCServer(ctx context.Context, path string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(path, port)
	if err := d.start(cmd); err != nil {
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	deadline := time.Now().Add(startTimeout)
	for delay := 5 * time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 200*time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return addr, c.Close()
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(delay): // back-off between readiness probes
		}
	}
	return "", fmt.Errorf("%s did not accept on %s within %v", path, addr, startTimeout)
}

// start starts cmd in its own process group and remembers it for stopAll.
// Pdeathsig ends the server even if the demo itself is killed.
func (d *demo) start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	d.procs = append(d.procs, cmd)
	return nil
}

// stopAll ends every process group it started: TERM, a grace period, KILL.
func (d *demo) stopAll() {
	for _, cmd := range d.procs {
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // children left in the group
	}
	d.procs = nil
}

// client runs an echo client with input on stdin and returns its stdout.
func (d *demo) client(ctx context.Context, path string, args []string, input string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, clientTime)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Stdin = strings.NewReader(input)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	if out.String() != input {
		return out.String(), fmt.Errorf("echo differs: sent %q, got %q", input, out.String())
	}
	return out.String(), nil
}

// echoconf runs the echoconf binary with its output going to the demo's
// output, and returns its exit code.
func (d *demo) echoconf(ctx context.Context, args ...string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, checkTime)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.path("echoconf"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Stdout, cmd.Stderr = d.out, d.out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), nil
	default:
		return -1, fmt.Errorf("echoconf %s: %w", strings.Join(args, " "), err)
	}
}

func buildC(ctx context.Context, src, out string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, "gcc", "-Wall", "-Wextra", "-O2", "-o", out, src).CombinedOutput()
	if err != nil {
		return fmt.Errorf("gcc %s: %w: %s", src, err, strings.TrimSpace(string(b)))
	}
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
