// Command echo-server is the reference TCP Echo (RFC 862) server.
//
// Usage:
//
//	echo-server [-addr HOST:PORT] [-model goroutine|process] [-max-conns N]
//	            [-idle-timeout D] [-shutdown-timeout D] [-buffer-size BYTES] [-splice]
//
// It listens on -addr (default 127.0.0.1:7007; ":7007" is every interface,
// port 0 a free port) and, once listening, prints exactly one line to
// stderr:
//
//	listening on 127.0.0.1:NNNNN
//
// Every byte received is echoed unchanged; a half-close is answered, after
// the pending echo, with a FIN. -model goroutine (the default) serves each
// connection on a goroutine, -model process in a child process of its own.
// -max-conns N serves at most N connections at once (0 = no limit; the
// rest wait in the accept queue); -idle-timeout closes a connection idle
// that long (0 = never). SIGINT or SIGTERM stops accepting and lets
// connections in progress finish for up to -shutdown-timeout (default 5s)
// before closing them (0 = wait without bound); a second signal closes them
// at once.
//
// Exit codes:
//
//	0  stopped by SIGINT or SIGTERM
//	1  could not listen, or the listener failed
//	2  bad flags or arguments
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/echoconf/echoconf/impl"
)

// Exit codes, as documented above.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func main() {
	if code, ok := impl.RunChildIfRequested(); ok {
		os.Exit(code)
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, sig))
}

// run is the whole command: it parses args, serves until a signal arrives
// on sig, and returns the exit code.
func run(args []string, stdout, stderr io.Writer, sig <-chan os.Signal) int {
	cfg, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "echo-server: %v (see echo-server -h)\n", err)
		return exitUsage
	}
	cfg.ErrorLog = log.New(stderr, "echo-server: ", 0)
	srv, err := impl.NewServer(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "echo-server: %v (see echo-server -h)\n", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "echo-server: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stderr, "listening on %s\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		_ = srv.Close()
		fmt.Fprintf(stderr, "echo-server: %v\n", err)
		return exitFailed
	case <-sig:
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Shutdown(ctx) }()
	select {
	case err = <-stopped:
	case <-sig:
		cancel() // a second signal: close everything now
		err = <-stopped
	}
	<-served
	if err != nil {
		fmt.Fprintf(stderr, "echo-server: closed connections still open at shutdown: %v\n", err)
	}
	return exitOK
}

// parseFlags returns the configuration args describe. Errors are one line;
// -h prints the usage to stdout and returns flag.ErrHelp.
func parseFlags(args []string, stdout io.Writer) (impl.Config, error) {
	fs := flag.NewFlagSet("echo-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg impl.Config
	var model string
	fs.StringVar(&cfg.Addr, "addr", impl.DefaultAddr, "listen on `HOST:PORT` (\":7007\" = every interface, port 0 = a free port)")
	fs.StringVar(&model, "model", string(impl.ModelGoroutine), "concurrency model: goroutine or process")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "serve at most `N` connections at once; the rest wait in the accept queue (0 = no limit)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 0, "close a connection idle for this long (0 = never)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", impl.DefaultShutdownTimeout, "on SIGINT/SIGTERM, let connections finish for this long before closing them")
	fs.IntVar(&cfg.BufferSize, "buffer-size", impl.DefaultBufferSize, "per-connection echo buffer in `BYTES`")
	fs.BoolVar(&cfg.Splice, "splice", false, "echo through a kernel pipe with splice(2) instead of the buffer loop (bulk traffic only)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintln(stdout, "usage: echo-server [flags]")
			fs.PrintDefaults()
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	m, err := impl.ParseModel(model)
	if err != nil {
		return cfg, fmt.Errorf("-model: %w", err)
	}
	cfg.Model = m
	if err := checkAddr(cfg.Addr); err != nil {
		return cfg, fmt.Errorf("-addr: %w", err)
	}
	switch {
	case cfg.MaxConns < 0:
		return cfg, fmt.Errorf("-max-conns: %d is negative", cfg.MaxConns)
	case cfg.IdleTimeout < 0:
		return cfg, fmt.Errorf("-idle-timeout: %v is negative", cfg.IdleTimeout)
	case cfg.ShutdownTimeout < 0:
		return cfg, fmt.Errorf("-shutdown-timeout: %v is negative", cfg.ShutdownTimeout)
	case cfg.BufferSize < impl.MinBufferSize || cfg.BufferSize > impl.MaxBufferSize:
		return cfg, fmt.Errorf("-buffer-size: %d is outside [%d, %d]", cfg.BufferSize, impl.MinBufferSize, impl.MaxBufferSize)
	}
	return cfg, nil
}

// checkAddr rejects an address net.Listen would refuse for its form
// rather than for the state of the machine: no port, or a port out of range.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if port == "" {
		return nil // as ":0", a free port
	}
	if n, err := strconv.ParseUint(port, 10, 64); err == nil {
		if n > 65535 {
			return fmt.Errorf("port %s is outside [0, 65535]", port)
		}
		return nil
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("unknown port %q", port)
	}
	return nil
}
