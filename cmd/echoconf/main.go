// Command echoconf checks TCP Echo (RFC 862) servers, and echo clients, for
// conformance.
//
//	echoconf check [flags] [HOST:PORT]     check a running server (none: the built-in reference server)
//	echoconf check [flags] --exec 'CMD {port}'  start, check and stop a server
//	echoconf check-client [flags] --exec 'CLIENT {host} {port}'  check an echo client
//	echoconf list [--udp|--client]         print a catalogue of checks
//	echoconf version                       print the version
//	echoconf help [COMMAND]                print help
//
// Exit codes: 0 conformant, 1 not conformant (including an unreachable
// target or an exec'd server that never listens), 2 usage or internal error,
// an --exec command that cannot be run, or an interrupt (a signal, or a
// failed write to stdout or stderr).
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/echoconf/echoconf/impl"
	"github.com/echoconf/echoconf/internal/reap"
	"github.com/echoconf/echoconf/internal/stdio"
)

// Exit codes.
const (
	exitPass  = 0 // conformant
	exitFail  = 1 // not conformant
	exitUsage = 2 // usage or internal error
)

// finalSweepTimeout bounds the killing of what is left below echoconf
// when it exits.
const finalSweepTimeout = 5 * time.Second

// command is one subcommand: it parses its own flags and returns an exit code.
type command struct {
	run     func(args []string, stdout, stderr io.Writer) int
	summary string
}

// commands is the subcommand dispatch table.
var commands = map[string]command{
	"bench":        {runBench, "measure an echo server under load, verifying every byte"},
	"check":        {runCheck, "check an echo server against the catalogue"},
	"check-client": {runCheckClient, "check an echo client, echoconf playing its server"},
	"grade":        {runGrade, "grade a class of C submissions (build, check, score)"},
	"list":         {runList, "print the catalogue of checks"},
	"version":      {runVersion, "print the version"},
}

func main() {
	if code, ok := impl.RunChildIfRequested(); ok {
		os.Exit(code)
	}
	// A subreaper: a server that daemonizes (double fork, setsid) is
	// re-parented to echoconf, not to init, so it can still be killed.
	// Best effort: without it, the mark in each server's environment
	// still finds such a daemon (see internal/reap).
	_ = reap.Subreaper()
	// Duplicates of fd 1 and 2: a closed stdout is then a write error that
	// stops the run cleanly, not a SIGPIPE death (see runContext).
	stdout, stderr := stdio.Detach()
	code := run(os.Args[1:], stdout, stderr)
	// Whatever is still below echoconf now (an orphan that cleared its
	// environment) goes too; every child echoconf started is reaped.
	reap.KillDescendants(finalSweepTimeout)
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if _, ok := commands[args[1]]; ok {
				return commands[args[1]].run([]string{"-h"}, stdout, stderr)
			}
			return usageError(stderr, "unknown command %q (see echoconf help)", args[1])
		}
		usage(stdout)
		return exitPass
	case "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		return usageError(stderr, "unknown command %q (see echoconf help)", name)
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("echoconf checks TCP Echo (RFC 862) servers, and echo clients, for conformance.\n\nUsage:\n  echoconf COMMAND [flags] [args]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-13s %s\n", n, commands[n].summary)
	}
	b.WriteString("  help          print help about a command\n\n")
	b.WriteString("Exit codes: 0 conformant, 1 not conformant, 2 usage or internal error.\n")
	b.WriteString("Run 'echoconf help check' for the flags of check, 'echoconf help check-client' for those of check-client.\n")
	fmt.Fprint(w, b.String())
}

// usageError prints a one-line "echoconf: ..." message and returns exitUsage.
func usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "echoconf: "+format+"\n", args...)
	return exitUsage
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] != "-h" {
		return usageError(stderr, "version takes no arguments")
	}
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	fmt.Fprintf(stdout, "echoconf %s\n", v)
	return exitPass
}
