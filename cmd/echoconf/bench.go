package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/bench"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

const benchUsage = `Usage:
  echoconf bench [flags] [HOST:PORT]
  echoconf bench [flags] --exec 'COMMAND ... {port}'

Drives an echo server with a load and measures it. Every echoed byte is
verified: a wrong byte, a reset, an early close or a stall ends the run with
the diagnosis echoconf check would give, and exit code 1. With no target,
the built-in reference server runs inside the bench (its CPU counts as the
bench's). --exec starts the server as check does.

Modes:
  stream    full duplex on --conns connections, --size bytes per write
  pingpong  --size-byte messages, --depth in flight per connection; latency
  connrate  connect, echo --size bytes, half-close, FIN, close; on --conns workers
  idle      hold --conns connections after an echo of --size bytes; with
            --exec (or --pid), the server's RSS and fds per connection

A single connection's ping-pong mostly measures how fast an idle CPU wakes
up: --awake keeps one CPU busy with a spinning thread. The report says which
condition was measured; never compare figures across conditions.

Flags:
`

const benchFooter = `
Exit codes: 0 measured, 1 the server failed (unreachable, wrong bytes, reset,
early close, no progress for --timeout), 2 usage or internal error, or an
interrupt.
`

type benchFlags struct {
	mode, format, exec string
	conns, size, depth int
	duration, warmup   time.Duration
	timeout, startup   time.Duration
	seed               uint64
	fdLimit, pid       int
	awake, noProgress  bool
}

func newBenchFlagSet(f *benchFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.mode, "mode", "stream", "load: stream, pingpong, connrate or idle")
	fs.IntVar(&f.conns, "conns", 0, "connections (stream, pingpong, idle; default 1, idle 1000) or workers (connrate; default 1)")
	fs.IntVar(&f.size, "size", 0, "bytes per write or message (default: stream 65536, pingpong 1024, connrate 64, idle 32768)")
	fs.IntVar(&f.depth, "depth", 1, "pingpong: messages in flight per connection")
	fs.DurationVar(&f.duration, "duration", 5*time.Second, "measured time (idle: how long connections are held)")
	fs.DurationVar(&f.warmup, "warmup", time.Second, "load before measuring, not counted (not idle)")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Second, "fail when the server makes no progress for this long")
	fs.Uint64Var(&f.seed, "seed", 1, "payload seed")
	fs.BoolVar(&f.awake, "awake", false, "keep one CPU awake with a spinning thread (cpu condition \"awake\")")
	fs.StringVar(&f.format, "format", "text", "text or json")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no live progress line on a terminal")
	fs.StringVar(&f.exec, "exec", "", "start the server with `COMMAND`; {port} is replaced by a free port")
	fs.IntVar(&f.fdLimit, "fd-limit", defaultBenchFDLimit(), "with --exec: the server's RLIMIT_NOFILE (default: this process's hard limit, at most 65536)")
	fs.DurationVar(&f.startup, "startup-timeout", 5*time.Second, "with --exec: wait this long for the server to accept")
	fs.IntVar(&f.pid, "pid", 0, "idle mode against HOST:PORT: the server's `PID`, to read its RSS and fds from /proc")
	return fs
}

// runBench is echoconf bench.
func runBench(args []string, stdout, stderr io.Writer) int {
	var f benchFlags
	fs := newBenchFlagSet(&f)
	pos, code, done := parseCommand("bench", fs, args, benchUsage, benchFooter, stdout, stderr)
	if done {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	switch {
	case len(pos) > 1:
		return usageError(stderr, "bench: want at most one HOST:PORT, got %d arguments", len(pos))
	case len(pos) == 1 && set["exec"]:
		return usageError(stderr, "bench: give HOST:PORT or --exec, not both")
	case f.format != "text" && f.format != "json":
		return usageError(stderr, "bench: --format: unknown format %q (want text or json)", f.format)
	case set["exec"] && strings.TrimSpace(f.exec) == "":
		return usageError(stderr, "bench: --exec: empty command")
	case set["pid"] && set["exec"]:
		return usageError(stderr, "bench: --pid is for HOST:PORT; --exec knows its server")
	}
	cfg := bench.Config{Mode: bench.Mode(f.mode), Conns: f.conns, Size: f.size, Depth: f.depth,
		Duration: f.duration, Warmup: f.warmup, Seed: f.seed, Timeout: f.timeout, Awake: f.awake, ServerPID: f.pid}
	if !set["warmup"] && cfg.Mode == bench.ModeIdle {
		cfg.Warmup = 0
	}
	if len(pos) == 1 {
		if err := engine.ValidateAddr(pos[0]); err != nil {
			return usageError(stderr, "bench: %v", err)
		}
		cfg.Addr = pos[0]
	}
	check := bench.Defaults(cfg)
	if check.Addr == "" {
		check.Addr = "127.0.0.1:0" // validated below, once the server runs
	}
	if err := check.Validate(); err != nil {
		return usageError(stderr, "bench: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	defer stop()
	switch {
	case set["exec"]:
		p, err := engine.StartProcess(ctx, engine.ExecSpec{Command: f.exec, FDLimit: f.fdLimit, StartupTimeout: f.startup})
		if err != nil {
			if ctx.Err() != nil {
				return usageError(stderr, "bench: interrupted")
			}
			fmt.Fprintf(stderr, "echoconf: bench: %v\n", err)
			return exitFail
		}
		defer p.Close()
		cfg.Addr, cfg.ServerPID = p.Addr(), p.PID()
	case cfg.Addr == "":
		srv, err := recovered(echotest.NewServer)
		if err != nil {
			return usageError(stderr, "bench: start the built-in reference server: %v", err)
		}
		defer srv.Close()
		cfg.Addr = srv.Addr
		if f.format == "text" {
			fmt.Fprintf(stdout, "benchmarking the built-in reference server at %s (in this process)\n", srv.Addr)
		}
	}
	live := f.format == "text" && !f.noProgress && isTerminal(stdout)
	if live {
		cfg.Progress = func(p bench.Progress) { fmt.Fprintf(stdout, "\r\033[K%s", bench.ProgressLine(p)) }
	}
	res, err := bench.Run(ctx, cfg)
	if live {
		fmt.Fprint(stdout, "\r\033[K")
	}
	if err != nil {
		var fail *spec.Failure
		switch {
		case errors.As(err, &fail):
			fmt.Fprintf(stderr, "echoconf: bench: the server failed: %s", fail.Report())
			return exitFail
		case ctx.Err() != nil:
			return usageError(stderr, "bench: interrupted")
		}
		return usageError(stderr, "bench: %v", err)
	}
	write := bench.WriteText
	if f.format == "json" {
		write = bench.WriteJSON
	}
	if err := write(stdout, res); err != nil {
		return usageError(stderr, "bench: %v", err)
	}
	return exitPass
}

// defaultBenchFDLimit is enough descriptors for idle mode's thousands of
// connections, within what this process may grant.
func defaultBenchFDLimit() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Max > 65536 {
		return 65536
	}
	return int(rl.Max)
}
