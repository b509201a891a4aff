// Command echo-client is the reference TCP and UDP Echo (RFC 862) client.
//
// Usage:
//
//	echo-client [-verify] [-timeout D] [-mode auto|interactive|pipe] HOST:PORT
//	echo-client -udp [-retries N] [-verify] [-timeout D] [-mode auto|interactive|pipe] HOST:PORT
//
// When stdin is a terminal (or with -mode interactive) it is the classic
// line client: it sends each line typed and prints its echo. Otherwise (or
// with -mode pipe) it streams stdin to the server while it writes the echo
// to stdout, so any amount of input works; at the end of stdin it
// half-closes and exits when the server closes.
//
// -verify compares the echo with what was sent, in bounded memory, and
// stops at the first difference, reporting its offset. -timeout (default
// 5s) bounds the connect, every write, and every wait for an echo that is
// owed or for the server's close; waiting for stdin is not bounded.
//
// With -udp it sends datagrams, one at a time, each after the reply to
// the previous one: a datagram per line in interactive mode, and in pipe
// mode a datagram per read of stdin, at most 65507 bytes. It waits
// -timeout (default 1s with -udp) for each reply and sends the datagram
// again, up to -retries times (default 3); a late copy of a resent
// datagram's reply is ignored. -verify compares each reply with its
// datagram.
//
// Exit codes:
//
//	0  the server echoed everything and closed (-udp: every datagram came back)
//	1  -verify: the echo differed from the input (changed, extra or missing bytes)
//	2  bad flags or arguments
//	3  cannot connect (refused, unreachable, connect timed out; -udp: the
//	   address does not resolve, or ICMP port unreachable: nothing listens)
//	4  connection error: reset, or closed by the server before the input ended
//	5  timeout: the server stopped making progress for -timeout (-udp: a
//	   datagram got no reply after -retries resends)
//	6  local I/O error reading stdin or writing stdout
//	130  interrupted by SIGINT or SIGTERM (Ctrl-C), at once in either mode
//
// Each error is reported as one line on stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/echoconf/echoconf/impl"
)

// Exit codes, as documented above.
const (
	exitOK       = 0
	exitMismatch = 1
	exitUsage    = 2
	exitConnect  = 3
	exitConn     = 4
	exitTimeout  = 5
	exitLocal    = 6
	// exitInterrupted is the shell's code for a command that SIGINT ended.
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, term.IsTerminal(int(os.Stdin.Fd())))
	stop()
	os.Exit(code)
}

// options is what the command line asks for.
type options struct {
	client    impl.Client
	udp       bool
	udpClient impl.UDPClient
	mode      string
}

// run is the whole command; it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, stdinIsTerminal bool) int {
	opt, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "echo-client: %v (see echo-client -h)\n", err)
		return exitUsage
	}
	interactive := opt.mode == "interactive" || (opt.mode == "auto" && stdinIsTerminal)
	switch {
	case opt.udp && interactive:
		err = opt.udpClient.Interactive(ctx, stdin, stdout)
	case opt.udp:
		err = opt.udpClient.Pipe(ctx, stdin, stdout)
	case interactive:
		err = opt.client.Interactive(ctx, stdin, stdout)
	default:
		err = opt.client.Pipe(ctx, stdin, stdout)
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintln(stderr, "echo-client: interrupted")
		return exitInterrupted
	}
	code := exitCode(err)
	var noReply *impl.NoReplyError
	if code == exitTimeout && !errors.As(err, &noReply) {
		err = fmt.Errorf("%w (after %v without progress)", err, opt.client.Timeout)
	}
	fmt.Fprintf(stderr, "echo-client: %v\n", err)
	return code
}

// exitCode maps an error of impl.Client to the documented exit code.
func exitCode(err error) int {
	var (
		dial     *impl.DialError
		mismatch *impl.MismatchError
		datagram *impl.DatagramMismatchError
		local    *impl.LocalError
	)
	switch {
	case errors.As(err, &dial):
		return exitConnect
	case errors.As(err, &mismatch), errors.As(err, &datagram):
		return exitMismatch
	case errors.As(err, &local):
		return exitLocal
	case errors.Is(err, os.ErrDeadlineExceeded):
		return exitTimeout
	}
	return exitConn
}

// parseFlags returns the options args describe. Errors are one line; -h
// prints the usage to stdout and returns flag.ErrHelp.
func parseFlags(args []string, stdout io.Writer) (options, error) {
	fs := flag.NewFlagSet("echo-client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var opt options
	fs.BoolVar(&opt.client.Verify, "verify", false, "check that the echo equals the input; exit 1 at the first difference")
	fs.DurationVar(&opt.client.Timeout, "timeout", impl.DefaultClientTimeout, "bound on the connect and on every wait for the server; with -udp, the wait for each reply (1s unless set)")
	fs.StringVar(&opt.mode, "mode", "auto", "interactive (line by line), pipe (streaming) or auto (interactive when stdin is a terminal)")
	fs.BoolVar(&opt.udp, "udp", false, "UDP echo: a datagram per line (interactive) or per read of stdin of at most 65507 bytes (pipe), one at a time")
	fs.IntVar(&opt.udpClient.Retries, "retries", impl.DefaultUDPRetries, fmt.Sprintf("-udp: send a datagram again up to `N` times (0 to %d) when no reply comes within -timeout", impl.MaxUDPRetries))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintln(stdout, "usage: echo-client [flags] HOST:PORT")
			fs.PrintDefaults()
		}
		return opt, err
	}
	switch opt.mode {
	case "auto", "interactive", "pipe":
	default:
		return opt, fmt.Errorf("-mode: unknown mode %q (want auto, interactive or pipe)", opt.mode)
	}
	if opt.client.Timeout <= 0 {
		return opt, fmt.Errorf("-timeout: must be positive, got %v", opt.client.Timeout)
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case !opt.udp && set["retries"]:
		return opt, errors.New("-retries needs -udp")
	case opt.udpClient.Retries < 0 || opt.udpClient.Retries > impl.MaxUDPRetries:
		return opt, fmt.Errorf("-retries: %d is outside [0, %d]", opt.udpClient.Retries, impl.MaxUDPRetries)
	}
	opt.udpClient.Timeout = impl.DefaultUDPTimeout
	if set["timeout"] {
		opt.udpClient.Timeout = opt.client.Timeout
	}
	opt.udpClient.Verify = opt.client.Verify
	switch fs.NArg() {
	case 0:
		return opt, errors.New("missing HOST:PORT")
	case 1:
	default:
		return opt, fmt.Errorf("unexpected argument %q after HOST:PORT", fs.Arg(1))
	}
	addr := fs.Arg(0)
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return opt, fmt.Errorf("bad address %q: want HOST:PORT", addr)
	}
	opt.client.Addr, opt.udpClient.Addr = addr, addr
	return opt, nil
}
