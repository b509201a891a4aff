package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

const checkClientUsage = `Usage:
  echoconf check-client [flags] --exec 'CLIENT ... {host} ... {message} ... {port}'
  echoconf check-client [flags] --exec 'CLIENT ... {host} ... {port}' [--shape interactive|stream] [--tty]

Checks an echo client against the client catalogue (see echoconf list
--client). For each check, echoconf plays the server on a free port of
127.0.0.1, in one way (a prompt echo, an echo in 1-byte pieces, a late
echo, an early close, a reset, silence...), runs the client's command
line against it with {host} and {port} replaced, and judges the bytes the
client sent, what it printed on stdout, its exit status and stderr, and
its timing. The client runs in its own process group, which is killed
when the check ends.

Shapes:
  argument     the message is an argument ({message}): the client sends it,
               prints the echo and exits (the default when the command has
               {message})
  interactive  the client reads lines from stdin, sends each and prints each
               echo, until end of file on stdin (the default otherwise;
               --stdin is the same)
  stream       the client copies stdin to the server and the echo to stdout
               until end of file; it must read while it writes

Flags:
`

const checkClientFooter = `
Exit codes: 0 the client passed (no check failed or errored; SHOULD failures
only warn unless --strict), 1 it did not, 2 usage or internal error, a
client command that cannot be run (not found, not executable), or an
interrupt (SIGINT, SIGTERM, or a failed write to stdout or stderr).
`

// clientFlags are the parsed flags of echoconf check-client.
type clientFlags struct {
	runFlags
	exec       string
	shape      string
	stdin, tty bool
}

func newClientFlagSet(f *clientFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("check-client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.exec, "exec", "", "the client's `COMMAND`: {host} and {port} are replaced by the server echoconf plays, {message} by the message (argument shape)")
	fs.StringVar(&f.shape, "shape", "", "how the client takes its input, `SHAPE`: argument, interactive or stream (default: argument with {message}, else interactive)")
	fs.BoolVar(&f.stdin, "stdin", false, "the same as --shape interactive")
	fs.BoolVar(&f.tty, "tty", false, "make the client's stdin a terminal and type its input there (not with --shape stream)")
	f.register(fs, runFlagHelp{category: "client", list: "the client catalogue (IDs, levels, requirements)", seed: "message",
		parallel: "run up to `N` checks (each its own client and server) at once"})
	return fs
}

// runCheckClient is echoconf check-client: parse and validate everything,
// open every output, run the client catalogue, then write the reports.
func runCheckClient(args []string, stdout, stderr io.Writer) int {
	var f clientFlags
	fs := newClientFlagSet(&f)
	pos, code, done := parseCommand("check-client", fs, args, checkClientUsage, checkClientFooter, stdout, stderr)
	if done {
		return code
	}
	if f.list {
		return printCatalogue(stdout, stderr, spec.Clients(), f.run, f.skip)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	target, err := clientArgs(&f, set, pos)
	if err != nil {
		return usageError(stderr, "check-client: %v", err)
	}
	return checkRun{command: "check-client", flags: &f.runFlags, target: target, options: f.options(spec.Clients()),
		title: func(t engine.Target, _ string, color bool) string {
			return render.ClientTitleLine(t.Client.Command, t.Client.Shape.String(), t.Client.TTY, color)
		}}.run(stdout, stderr)
}

// clientArgs validates the flags and arguments of echoconf check-client,
// lower-cases the format names, and returns the client target.
func clientArgs(f *clientFlags, set map[string]bool, pos []string) (engine.Target, error) {
	var target engine.Target
	switch {
	case len(pos) > 0:
		return target, fmt.Errorf("unexpected argument %q: the client is given with --exec 'COMMAND'", pos[0])
	case !set["exec"]:
		return target, errors.New("--exec 'COMMAND ... {host} ... {port}' is required: the client to check")
	case strings.TrimSpace(f.exec) == "":
		return target, errors.New("--exec needs a command")
	case !strings.Contains(f.exec, "{port}"):
		return target, fmt.Errorf("the --exec command has no {port} placeholder: the client must be told the server's port: %q", f.exec)
	}
	shape, err := clientShape(f, set)
	if err != nil {
		return target, err
	}
	if err := f.validate(spec.Clients(), "echoconf list --client"); err != nil {
		return target, err
	}
	target.Client = &engine.ClientTarget{Command: f.exec, Shape: shape, TTY: f.tty}
	return target, nil
}

// clientShape is the shape the flags give, or the one the command implies:
// argument when it has {message}, interactive otherwise. It rejects a
// shape that contradicts the command or --tty.
func clientShape(f *clientFlags, set map[string]bool) (spec.Shape, error) {
	hasMessage := strings.Contains(f.exec, "{message}")
	shape := spec.ShapeInteractive
	switch {
	case set["shape"]:
		s, err := spec.ParseShape(strings.ToLower(f.shape))
		if err != nil {
			return 0, fmt.Errorf("--shape: %w", err)
		}
		if f.stdin && s != spec.ShapeInteractive {
			return 0, fmt.Errorf("--stdin means --shape interactive, not --shape %s", s)
		}
		shape = s
	case hasMessage && !f.stdin:
		shape = spec.ShapeArgument
	}
	switch {
	case shape == spec.ShapeArgument && !hasMessage:
		return 0, fmt.Errorf("an argument client takes its message from the command line, and the --exec command has no {message}: %q", f.exec)
	case shape != spec.ShapeArgument && hasMessage:
		return 0, fmt.Errorf("%s client reads its input from stdin, and the --exec command has a {message}: drop it, or use --shape argument", article(shape))
	case f.tty && shape == spec.ShapeStream:
		return 0, errors.New("--tty does not go with --shape stream: a stream client's megabytes of input cannot be typed on a terminal")
	}
	return shape, nil
}

// article is the shape with its indefinite article: "an interactive".
func article(s spec.Shape) string {
	if s == spec.ShapeInteractive || s == spec.ShapeArgument {
		return "an " + s.String()
	}
	return "a " + s.String()
}
