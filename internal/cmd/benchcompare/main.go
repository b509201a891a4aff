// Command benchcompare is `make bench-compare`: it starts the reference
// server in both models and its peers side by side (the C fork, poll,
// thread and epoll servers of testdata/c, Go's io.Copy idiom, and socat
// with EXEC:cat when socat is installed), runs the loads of `echoconf
// bench` on each, interleaved in a shuffled order, for several rounds, and
// writes the medians, the ratios to the best other server, and an SVG
// chart into docs/performance.md.
//
// Usage:
//
//	go run ./internal/cmd/benchcompare [-rounds 3] [-duration 2s] [-out docs/performance.md]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/echoconf/echoconf/internal/bench"
	"github.com/echoconf/echoconf/internal/engine"
)

// server is one peer: how to start it with {port}.
type server struct {
	name    string
	command string
	ours    bool   // the reference server: never its own "best other"
	idle    string // why the idle load is not run on it, or ""
}

// load is one row of the table.
type load struct {
	name   string
	cfg    bench.Config
	metric metric
}

// metric says which figure of a result a row compares.
type metric struct {
	name   string
	unit   string
	higher bool // higher is better
	get    func(*bench.Result) float64
}

var (
	mibps   = metric{"MiB/s", "MiB/s", true, func(r *bench.Result) float64 { return r.MiBPerSec }}
	msgps   = metric{"msgs/s", "msgs/s", true, func(r *bench.Result) float64 { return r.MsgsPerSec }}
	connps  = metric{"connections/s", "conn/s", true, func(r *bench.Result) float64 { return r.MsgsPerSec }}
	p99     = metric{"p99", "µs", false, func(r *bench.Result) float64 { return float64(r.Latency.P99) / 1e3 }}
	rssConn = metric{"RSS per idle connection", "bytes", false, func(r *bench.Result) float64 { return r.Server.RSSPerConn }}
	fdsConn = metric{"fds per idle connection", "fds", false, func(r *bench.Result) float64 { return r.Server.FDsPerConn }}
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchcompare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rounds := fs.Int("rounds", 3, "rounds of every load on every server")
	duration := fs.Duration("duration", 2*time.Second, "measured time of each run")
	idleConns := fs.Int("idle-conns", 10000, "connections of the idle load")
	out := fs.String("out", "docs/performance.md", "the document whose generated section is rewritten")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "shuffle seed")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *rounds < 1 || *duration <= 0 {
		fmt.Fprintln(stderr, "benchcompare: -rounds and -duration must be positive")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "benchcompare-")
	if err != nil {
		fmt.Fprintf(stderr, "benchcompare: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	servers, err := build(dir, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "benchcompare: %v\n", err)
		return 1
	}
	loads := theLoads(*duration)
	idle := load{name: fmt.Sprintf("%d idle connections after a 32 KiB echo", *idleConns),
		cfg: bench.Config{Mode: bench.ModeIdle, Conns: *idleConns, Duration: 2 * time.Second}}

	type job struct {
		srv  server
		load load
	}
	results := map[string]map[string][]*bench.Result{} // load -> server -> rounds
	failures := map[string]string{}                    // load NUL server -> the last error
	rng := rand.New(rand.NewPCG(*seed, 1))
	began := time.Now()
	for round := range *rounds {
		var jobs []job
		for _, s := range servers {
			for _, l := range loads {
				jobs = append(jobs, job{s, l})
			}
			if round == 0 && s.idle == "" {
				jobs = append(jobs, job{s, idle}) // one round: it takes long and varies little
			}
		}
		rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
		for i, j := range jobs {
			fmt.Fprintf(stderr, "round %d/%d, run %d/%d: %s on %s\n", round+1, *rounds, i+1, len(jobs), j.load.name, j.srv.name)
			r, err := measure(ctx, j.srv, j.load.cfg)
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "benchcompare: interrupted")
				return 2
			}
			if err != nil {
				// A peer that fails a load is a result, not the end of the run.
				fmt.Fprintf(stderr, "benchcompare: %s on %s: %v\n", j.load.name, j.srv.name, err)
				failures[j.load.name+"\x00"+j.srv.name] = err.Error()
				continue
			}
			if results[j.load.name] == nil {
				results[j.load.name] = map[string][]*bench.Result{}
			}
			results[j.load.name][j.srv.name] = append(results[j.load.name][j.srv.name], r)
		}
	}
	doc := render(servers, append(loads, idle), results, failures, *rounds, time.Since(began))
	if err := writeDoc(*out, doc); err != nil {
		fmt.Fprintf(stderr, "benchcompare: %v\n", err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(*out), "performance.svg"), []byte(chart(servers, loads, results)), 0o644); err != nil {
		fmt.Fprintf(stderr, "benchcompare: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, doc)
	return 0
}

// theLoads are the rows of the table.
func theLoads(d time.Duration) []load {
	warm := d / 4
	return []load{
		{"1 connection, 64 KiB stream", bench.Config{Mode: bench.ModeStream, Conns: 1, Size: 64 << 10, Duration: d, Warmup: warm}, mibps},
		{"64 connections × 1 KiB ping-pong", bench.Config{Mode: bench.ModePingPong, Conns: 64, Size: 1 << 10, Duration: d, Warmup: warm}, msgps},
		{"64 connections × 1 KiB stream", bench.Config{Mode: bench.ModeStream, Conns: 64, Size: 1 << 10, Duration: d, Warmup: warm}, mibps},
		{"1 connection × 1 KiB ping-pong, awake CPU", bench.Config{Mode: bench.ModePingPong, Conns: 1, Size: 1 << 10, Duration: d, Warmup: warm, Awake: true}, msgps},
		{"connection rate, 4 workers", bench.Config{Mode: bench.ModeConnRate, Conns: 4, Size: 64, Duration: d, Warmup: warm}, connps},
	}
}

// build compiles every server into dir and returns them with their commands.
func build(dir string, stderr io.Writer) ([]server, error) {
	gobuild := func(pkg, name string) (string, error) {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Stderr = stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("go build %s: %w", pkg, err)
		}
		return bin, nil
	}
	cbuild := func(src, name string, flags ...string) (string, error) {
		bin := filepath.Join(dir, name)
		args := append([]string{"-Wall", "-Wextra", "-O2", "-o", bin, src}, flags...)
		cmd := exec.Command("gcc", args...)
		cmd.Stderr = stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("gcc %s: %w", src, err)
		}
		return bin, nil
	}
	ref, err := gobuild("./cmd/echo-server", "echo-server")
	if err != nil {
		return nil, err
	}
	iocopy, err := gobuild("./internal/cmd/iocopy-server", "iocopy-server")
	if err != nil {
		return nil, err
	}
	servers := []server{
		{name: "echoconf goroutine", command: ref + " -addr 127.0.0.1:{port}", ours: true},
		{name: "echoconf process", command: ref + " -model process -addr 127.0.0.1:{port}", ours: true, idle: "a process per connection"},
		{name: "Go io.Copy", command: iocopy + " {port}"},
	}
	for _, c := range []struct{ src, name, label, idle string }{
		{"testdata/c/epoll-server.c", "epoll-server", "C epoll", ""},
		{"testdata/c/poll-server.c", "poll-server", "C poll", "at most 4096 clients"},
		{"testdata/c/echo-server.c", "fork-server", "C fork", "a process per connection"},
		{"testdata/c/thread-server.c", "thread-server", "C thread", "a thread per connection"},
	} {
		bin, err := cbuild(c.src, c.name, "-pthread")
		if err != nil {
			return nil, err
		}
		servers = append(servers, server{name: c.label, command: bin + " {port}", idle: c.idle})
	}
	if socat, err := exec.LookPath("socat"); err == nil {
		servers = append(servers, server{name: "socat EXEC:cat",
			command: socat + " TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,backlog=1024,fork EXEC:cat", idle: "two processes per connection"})
	} else {
		fmt.Fprintln(stderr, "benchcompare: socat is not installed: its column is left out")
	}
	return servers, nil
}

// measure starts s, runs one load on it and stops it.
func measure(ctx context.Context, s server, cfg bench.Config) (*bench.Result, error) {
	p, err := engine.StartProcess(ctx, engine.ExecSpec{Command: s.command, FDLimit: fdLimit(), StartupTimeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	cfg.Addr = p.Addr()
	cfg.Timeout = 10 * time.Second
	if cfg.Mode == bench.ModeIdle {
		cfg.ServerPID = p.PID()
	}
	return bench.Run(ctx, cfg)
}

func fdLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Max > 65536 {
		return 65536
	}
	return int(rl.Max)
}

// median returns the median of the metric over rs.
func median(rs []*bench.Result, get func(*bench.Result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = get(r)
	}
	sort.Float64s(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// bestOther returns the best median among the servers that are not ours.
func bestOther(servers []server, rs map[string][]*bench.Result, m metric) (string, float64) {
	name, best := "", 0.0
	for _, s := range servers {
		if s.ours || len(rs[s.name]) == 0 {
			continue
		}
		v := median(rs[s.name], m.get)
		if name == "" || (m.higher && v > best) || (!m.higher && v < best) {
			name, best = s.name, v
		}
	}
	return name, best
}
