// Command echo-server is the reference TCP and UDP Echo (RFC 862) server.
//
// Usage:
//
//	echo-server [-addr HOST:PORT] [-model goroutine|process] [-max-conns N]
//	            [-idle-timeout D] [-shutdown-timeout D] [-buffer-size BYTES] [-splice]
//	echo-server -udp [-addr HOST:PORT] [-udp-readers N]
//	echo-server -tcp-and-udp [TCP flags] [-udp-readers N]
//
// It listens on -addr (default 127.0.0.1:7007; ":7007" is every interface,
// port 0 a free port) and, once listening, prints exactly one line to
// stderr:
//
//	listening on 127.0.0.1:NNNNN
//
// followed by " (udp)" with -udp and " (tcp and udp)" with -tcp-and-udp.
//
// TCP (the default): every byte received is echoed unchanged; a half-close
// is answered, after the pending echo, with a FIN. -model goroutine (the
// default) serves each connection on a goroutine, -model process in a
// child process of its own. -max-conns N serves at most N connections at
// once (0 = no limit; the rest wait in the accept queue); -idle-timeout
// closes a connection idle that long (0 = never). SIGINT or SIGTERM stops
// accepting and lets connections in progress finish for up to
// -shutdown-timeout (default 5s) before closing them (0 = wait without
// bound); a second signal closes them at once.
//
// UDP (-udp): every datagram is sent back once, unchanged, to the address
// and port it came from; empty datagrams too, and 65507-byte ones whole.
// A client that closed its port before the reply (ICMP port unreachable)
// stops nothing. -udp-readers N goroutines (default 4) read the socket,
// whose receive buffer is raised to 4 MiB (the kernel may cap it at
// net.core.rmem_max). The TCP-only flags are refused with -udp. SIGINT or
// SIGTERM stops it once the replies being sent are out.
//
// -tcp-and-udp serves both on the same port, as inetd serves echo on port
// 7; with port 0 it picks a port free for both.
//
// Exit codes:
//
//	0  stopped by SIGINT or SIGTERM
//	1  could not listen, or a listener or socket failed
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
	opt, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "echo-server: %v (see echo-server -h)\n", err)
		return exitUsage
	}
	errorLog := log.New(stderr, "echo-server: ", 0)
	opt.tcp.ErrorLog, opt.udp.ErrorLog = errorLog, errorLog
	var (
		tcpSrv *impl.Server
		udpSrv *impl.UDPServer
	)
	if opt.proto != protoUDP {
		if tcpSrv, err = impl.NewServer(opt.tcp); err != nil {
			fmt.Fprintf(stderr, "echo-server: %v (see echo-server -h)\n", err)
			return exitUsage
		}
	}
	if opt.proto != protoTCP {
		if udpSrv, err = impl.NewUDPServer(opt.udp); err != nil {
			fmt.Fprintf(stderr, "echo-server: %v (see echo-server -h)\n", err)
			return exitUsage
		}
	}
	ln, conn, err := listen(opt)
	if err != nil {
		fmt.Fprintf(stderr, "echo-server: %v\n", err)
		return exitFailed
	}
	switch opt.proto {
	case protoTCP:
		fmt.Fprintf(stderr, "listening on %s\n", ln.Addr())
	case protoUDP:
		fmt.Fprintf(stderr, "listening on %s (udp)\n", conn.LocalAddr())
	default:
		fmt.Fprintf(stderr, "listening on %s (tcp and udp)\n", ln.Addr())
	}

	served := make(chan error, 2)
	running := 0
	if ln != nil {
		running++
		go func() { served <- tcpSrv.Serve(ln) }()
	}
	if conn != nil {
		running++
		go func() { served <- udpSrv.Serve(conn) }()
	}
	closeAll := func() {
		if tcpSrv != nil {
			_ = tcpSrv.Close()
		}
		if udpSrv != nil {
			_ = udpSrv.Close()
		}
	}
	select {
	case err := <-served:
		closeAll()
		for range running - 1 {
			<-served
		}
		fmt.Fprintf(stderr, "echo-server: %v\n", err)
		return exitFailed
	case <-sig:
	}
	if udpSrv != nil {
		_ = udpSrv.Close() // nothing to drain: replies in flight go out first
	}
	if tcpSrv != nil {
		err = shutdownTCP(tcpSrv, sig)
	}
	for range running {
		<-served
	}
	if err != nil {
		fmt.Fprintf(stderr, "echo-server: closed connections still open at shutdown: %v\n", err)
	}
	return exitOK
}

// shutdownTCP drains srv's connections; a second signal on sig closes them
// at once.
func shutdownTCP(srv *impl.Server, sig <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Shutdown(ctx) }()
	select {
	case err := <-stopped:
		return err
	case <-sig:
		cancel() // a second signal: close everything now
		return <-stopped
	}
}

// listen opens what opt.proto serves: a TCP listener, a UDP socket, or
// both on one port.
func listen(opt options) (net.Listener, *net.UDPConn, error) {
	switch opt.proto {
	case protoUDP:
		pc, err := net.ListenPacket("udp", opt.tcp.Addr)
		if err != nil {
			return nil, nil, err
		}
		return nil, pc.(*net.UDPConn), nil
	case protoBoth:
		return impl.ListenTCPAndUDP(opt.tcp.Addr)
	}
	ln, err := net.Listen("tcp", opt.tcp.Addr)
	return ln, nil, err
}

// Protocols the server can serve.
const (
	protoTCP  = "tcp"
	protoUDP  = "udp"
	protoBoth = "tcp and udp"
)

// options is what the command line asks for. tcp.Addr is the address of
// both protocols.
type options struct {
	proto string
	tcp   impl.Config
	udp   impl.UDPConfig
}

// tcpOnlyFlags are refused with -udp.
var tcpOnlyFlags = []string{"model", "max-conns", "idle-timeout", "shutdown-timeout", "buffer-size", "splice"}

// parseFlags returns the options args describe. Errors are one line; -h
// prints the usage to stdout and returns flag.ErrHelp.
func parseFlags(args []string, stdout io.Writer) (options, error) {
	fs := flag.NewFlagSet("echo-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		opt       options
		model     string
		udp, both bool
	)
	cfg := &opt.tcp
	fs.StringVar(&cfg.Addr, "addr", impl.DefaultAddr, "listen on `HOST:PORT` (\":7007\" = every interface, port 0 = a free port)")
	fs.StringVar(&model, "model", string(impl.ModelGoroutine), "TCP concurrency model: goroutine or process")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "serve at most `N` TCP connections at once; the rest wait in the accept queue (0 = no limit)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 0, "close a TCP connection idle for this long (0 = never)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", impl.DefaultShutdownTimeout, "on SIGINT/SIGTERM, let TCP connections finish for this long before closing them")
	fs.IntVar(&cfg.BufferSize, "buffer-size", impl.DefaultBufferSize, "per-connection TCP echo buffer in `BYTES`")
	fs.BoolVar(&cfg.Splice, "splice", false, "echo TCP through a kernel pipe with splice(2) instead of the buffer loop (bulk traffic only)")
	fs.BoolVar(&udp, "udp", false, "serve UDP echo instead of TCP: each datagram back to its sender (the TCP-only flags are refused)")
	fs.BoolVar(&both, "tcp-and-udp", false, "serve TCP and UDP echo on the same port, as inetd does (port 0 = a port free for both)")
	fs.IntVar(&opt.udp.Readers, "udp-readers", impl.DefaultUDPReaders, fmt.Sprintf("goroutines reading the UDP socket, `N` in [1, %d]", impl.MaxUDPReaders))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintln(stdout, "usage: echo-server [flags]")
			fs.PrintDefaults()
		}
		return opt, err
	}
	if fs.NArg() > 0 {
		return opt, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case udp && both:
		return opt, errors.New("-udp and -tcp-and-udp exclude each other")
	case udp:
		opt.proto = protoUDP
		for _, name := range tcpOnlyFlags {
			if set[name] {
				return opt, fmt.Errorf("-%s applies to TCP only, not to -udp", name)
			}
		}
	case both:
		opt.proto = protoBoth
	default:
		opt.proto = protoTCP
		if set["udp-readers"] {
			return opt, errors.New("-udp-readers needs -udp or -tcp-and-udp")
		}
	}
	m, err := impl.ParseModel(model)
	if err != nil {
		return opt, fmt.Errorf("-model: %w", err)
	}
	cfg.Model = m
	if err := checkAddr(cfg.Addr); err != nil {
		return opt, fmt.Errorf("-addr: %w", err)
	}
	opt.udp.Addr = cfg.Addr
	switch {
	case cfg.MaxConns < 0:
		return opt, fmt.Errorf("-max-conns: %d is negative", cfg.MaxConns)
	case cfg.IdleTimeout < 0:
		return opt, fmt.Errorf("-idle-timeout: %v is negative", cfg.IdleTimeout)
	case cfg.ShutdownTimeout < 0:
		return opt, fmt.Errorf("-shutdown-timeout: %v is negative", cfg.ShutdownTimeout)
	case cfg.BufferSize < impl.MinBufferSize || cfg.BufferSize > impl.MaxBufferSize:
		return opt, fmt.Errorf("-buffer-size: %d is outside [%d, %d]", cfg.BufferSize, impl.MinBufferSize, impl.MaxBufferSize)
	case opt.udp.Readers < 1 || opt.udp.Readers > impl.MaxUDPReaders:
		return opt, fmt.Errorf("-udp-readers: %d is outside [1, %d]", opt.udp.Readers, impl.MaxUDPReaders)
	}
	return opt, nil
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
