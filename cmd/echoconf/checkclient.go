package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/echoconf/echoconf/conformance/report"
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
	run, skip      globList
	reports        reportList
	list, strict   bool
	repeat         int
	scale          float64
	format, output string
	exec           string
	shape          string
	stdin, tty     bool
	seed           uint64
	noColor        bool
	parallel       int
}

func newClientFlagSet(f *clientFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("check-client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.exec, "exec", "", "the client's `COMMAND`: {host} and {port} are replaced by the server echoconf plays, {message} by the message (argument shape)")
	fs.StringVar(&f.shape, "shape", "", "how the client takes its input, `SHAPE`: argument, interactive or stream (default: argument with {message}, else interactive)")
	fs.BoolVar(&f.stdin, "stdin", false, "the same as --shape interactive")
	fs.BoolVar(&f.tty, "tty", false, "make the client's stdin a terminal and type its input there (not with --shape stream)")
	fs.Var(&f.run, "select", "run only checks whose ID matches `GLOB` (path.Match; \"client\" means \"client/*\"); repeatable or comma-separated")
	fs.Var(&f.run, "run", "the same as --select `GLOB`")
	fs.Var(&f.skip, "skip", "skip checks whose ID matches `GLOB`; repeatable or comma-separated")
	fs.BoolVar(&f.list, "list", false, "print the client catalogue (IDs, levels, requirements) and exit")
	fs.BoolVar(&f.strict, "strict", false, "make SHOULD failures fail the verdict instead of warning")
	fs.IntVar(&f.repeat, "repeat", 1, "run each check `N` times to expose flaky results")
	fs.Float64Var(&f.scale, "timeout-scale", 1, "multiply every timeout by `F` (for slow machines)")
	fs.StringVar(&f.format, "format", "text", "report `FORMAT`: "+render.List(report.Names())+" (any case)")
	fs.StringVar(&f.output, "output", "", "write the report to `FILE` instead of stdout")
	fs.Var(&f.reports, "report", "also write a report in `FORMAT=FILE`; repeatable")
	fs.Uint64Var(&f.seed, "seed", engine.DefaultSeed, "message seed `N` (the default makes runs repeatable)")
	fs.BoolVar(&f.noColor, "no-color", false, "never colour the text report (NO_COLOR is honoured too)")
	fs.IntVar(&f.parallel, "parallel", engine.DefaultParallel, "run up to `N` checks (each its own client and server) at once")
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
	cf := checkFlags{format: f.format, output: f.output, reports: f.reports}
	outs, err := openCheckOutputs(&cf, stdout)
	if err != nil {
		return usageError(stderr, "check-client: %v", err)
	}
	defer outs.close()
	streaming := f.format == "text" && f.output == ""
	color := streaming && !f.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)

	ctx, stdout, stderr, stop := runContext(stdout, stderr)
	defer stop()
	prog := newTermProgress(stdout, stderr, streaming, color, isTerminal(stderr) && !f.noColor && os.Getenv("NO_COLOR") == "")
	if streaming {
		c := target.Client
		prog.title = render.ClientTitleLine(c.Command, c.Shape.String(), c.TTY, color)
	}
	rep, err := engine.Run(ctx, target, engine.Options{Checks: spec.Clients(), Run: f.run, Skip: f.skip, Strict: f.strict,
		TimeoutScale: f.scale, Repeat: f.repeat, Seed: f.seed, Parallel: f.parallel, Progress: prog.event})
	prog.clear()
	if err != nil {
		return usageError(stderr, "check-client: %v", err)
	}
	if ctx.Err() != nil {
		return usageError(stderr, "check-client: %s", interruption(ctx))
	}
	var mainOpts report.Options
	if streaming {
		mainOpts = report.Options{Color: color, OmitChecks: true, OmitTitle: prog.titleShown()}
	}
	if err := outs.write(rep, mainOpts); err != nil {
		return usageError(stderr, "check-client: %v", err)
	}
	prog.verdict(rep)
	return verdictCode(rep)
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
	case f.repeat < 1 || f.repeat > engine.MaxRepeat:
		return target, fmt.Errorf("--repeat must be in 1..%d, got %d", engine.MaxRepeat, f.repeat)
	case !(f.scale > 0 && f.scale <= 1000): // NaN fails every comparison
		return target, fmt.Errorf("--timeout-scale must be in (0, 1000], got %g", f.scale)
	case f.parallel < 1:
		return target, fmt.Errorf("--parallel must be at least 1, got %d", f.parallel)
	case f.seed == 0:
		return target, errors.New("--seed must not be 0")
	}
	shape, err := clientShape(f, set)
	if err != nil {
		return target, err
	}
	if _, err := report.Lookup(f.format); err != nil {
		return target, fmt.Errorf("--format: %w", err)
	}
	if _, err := engine.Select(engine.Options{Checks: spec.Clients(), Run: f.run, Skip: f.skip}); err != nil {
		// The engine points at the server catalogue; this one is listed apart.
		return target, errors.New(strings.Replace(err.Error(), "(see echoconf list)", "(see echoconf list --client)", 1))
	}
	f.format = strings.ToLower(f.format)
	for i, r := range f.reports {
		if _, err := report.Lookup(r.format); err != nil {
			return target, fmt.Errorf("--report: %w", err)
		}
		f.reports[i].format = strings.ToLower(r.format)
	}
	if err := distinctOutputs(f.output, f.reports); err != nil {
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
