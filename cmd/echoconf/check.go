package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/internal/stdio"
	"github.com/echoconf/echoconf/spec"
)

const checkUsage = `Usage:
  echoconf check [flags] [HOST:PORT]
  echoconf check [flags] --exec 'COMMAND ... {port}'

Checks an echo server against the catalogue (see echoconf list). With no
target, checks the built-in reference server. HOST may be a name, an IPv4
address or an IPv6 address in brackets ([::1]:7007).

With --exec, echoconf picks a free port on 127.0.0.1, substitutes it for
{port}, starts the command in its own process group with an open-file
limit, waits until it accepts, runs the checks and then kills the group
and every descendant, even one that daemonized.
Its stdout and stderr go into the report.

Flags:
`

const checkFooter = `
Exit codes: 0 conformant (no check failed or errored; SHOULD failures only
warn unless --strict), 1 not conformant (including an unreachable target or
a server that never listens), 2 usage or internal error, an --exec command
that cannot be run (not found, not executable, exit status 126 or 127
before listening, an --fd-limit that cannot be set), or an interrupt
(SIGINT, SIGTERM, or a failed write to stdout or stderr).
`

// checkFlags are the parsed flags of echoconf check.
type checkFlags struct {
	run, skip      globList
	reports        reportList
	list, strict   bool
	repeat         int
	scale          float64
	format, output string
	exec           string
	fdLimit        int
	startup        time.Duration
	restart        bool
	seed           uint64
	noColor        bool
	parallel       int
	confirmAlone   bool
}

func newCheckFlagSet(f *checkFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&f.run, "select", "run only checks whose ID matches `GLOB` (path.Match; \"halfclose\" means \"halfclose/*\"); repeatable or comma-separated")
	fs.Var(&f.run, "run", "the same as --select `GLOB`")
	fs.Var(&f.skip, "skip", "skip checks whose ID matches `GLOB`; repeatable or comma-separated")
	fs.BoolVar(&f.list, "list", false, "print the catalogue (IDs, levels, requirements) and exit")
	fs.BoolVar(&f.strict, "strict", false, "make SHOULD failures fail the verdict instead of warning")
	fs.IntVar(&f.repeat, "repeat", 1, "run each check `N` times to expose flaky results")
	fs.Float64Var(&f.scale, "timeout-scale", 1, "multiply every timeout by `F` (for slow machines)")
	fs.StringVar(&f.format, "format", "text", "report `FORMAT`: "+render.List(report.Names())+" (any case)")
	fs.StringVar(&f.output, "output", "", "write the report to `FILE` instead of stdout")
	fs.Var(&f.reports, "report", "also write a report in `FORMAT=FILE`; repeatable")
	fs.StringVar(&f.exec, "exec", "", "start the server with `COMMAND`; {port} is replaced by a free port")
	fs.IntVar(&f.fdLimit, "fd-limit", conformance.DefaultFDLimit, "open-file limit (RLIMIT_NOFILE) of the --exec server, `N`")
	fs.DurationVar(&f.startup, "startup-timeout", conformance.DefaultStartupTimeout, "how long the --exec server has to accept connections, `D`")
	fs.BoolVar(&f.restart, "restart", false, "restart the --exec server after it dies, for the remaining checks")
	fs.Uint64Var(&f.seed, "seed", conformance.DefaultSeed, "payload seed `N` (the default makes runs repeatable)")
	fs.BoolVar(&f.noColor, "no-color", false, "never colour the text report (NO_COLOR is honoured too)")
	fs.IntVar(&f.parallel, "parallel", conformance.DefaultParallel, "run up to `N` non-exclusive checks at once")
	fs.BoolVar(&f.confirmAlone, "confirm-alone", false, "re-run alone each check that failed while others ran, and report only that run (as grade does)")
	return fs
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for range len(args) + 1 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return pos, nil
}

// parseCommand parses the flags and arguments of subcommand name. On -h it
// prints usage, the flags and footer to stdout; on a bad flag, a one-line
// usage error to stderr. done reports that the command ends there, with
// exit code code.
func parseCommand(name string, fs *flag.FlagSet, args []string, usage, footer string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fmt.Fprint(stdout, footer)
		return nil, exitPass, true
	}
	if err != nil {
		return nil, usageError(stderr, "%s: %v (see echoconf help %s)", name, err, name), true
	}
	return pos, 0, false
}

// runCheck is echoconf check.
func runCheck(args []string, stdout, stderr io.Writer) int {
	var f checkFlags
	fs := newCheckFlagSet(&f)
	pos, code, done := parseCommand("check", fs, args, checkUsage, checkFooter, stdout, stderr)
	if done {
		return code
	}
	if f.list {
		return printCatalogue(stdout, stderr, f.run, f.skip)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	switch {
	case len(pos) > 1:
		return usageError(stderr, "check: want at most one target, got %d: %s", len(pos), strings.Join(pos, " "))
	case len(pos) == 1 && set["exec"]:
		return usageError(stderr, "check: give either a target or --exec, not both")
	case set["exec"] && strings.TrimSpace(f.exec) == "":
		return usageError(stderr, "check: --exec needs a command")
	case set["exec"] && !strings.Contains(f.exec, "{port}"):
		return usageError(stderr, "check: the --exec command has no {port} placeholder: %q", f.exec)
	case !set["exec"] && (set["restart"] || set["fd-limit"] || set["startup-timeout"]):
		return usageError(stderr, "check: --restart, --fd-limit and --startup-timeout need --exec")
	case f.repeat < 1 || f.repeat > conformance.MaxRepeat:
		return usageError(stderr, "check: --repeat must be in 1..%d, got %d", conformance.MaxRepeat, f.repeat)
	case !(f.scale > 0 && f.scale <= 1000): // NaN fails every comparison
		return usageError(stderr, "check: --timeout-scale must be in (0, 1000], got %g", f.scale)
	case f.fdLimit < 8:
		return usageError(stderr, "check: --fd-limit must be at least 8, got %d", f.fdLimit)
	case f.startup <= 0:
		return usageError(stderr, "check: --startup-timeout must be positive, got %v", f.startup)
	case f.parallel < 1:
		return usageError(stderr, "check: --parallel must be at least 1, got %d", f.parallel)
	}
	if _, err := report.Lookup(f.format); err != nil {
		return usageError(stderr, "check: --format: %v", err)
	}
	// The selection is checked before anything starts or is printed.
	if _, err := conformance.Select(spec.All(), f.run, f.skip); err != nil {
		return usageError(stderr, "check: %v", err)
	}
	f.format = strings.ToLower(f.format)
	for i, r := range f.reports {
		if _, err := report.Lookup(r.format); err != nil {
			return usageError(stderr, "check: --report: %v", err)
		}
		f.reports[i].format = strings.ToLower(r.format)
	}
	if err := distinctOutputs(f.output, f.reports); err != nil {
		return usageError(stderr, "check: %v", err)
	}
	var target conformance.Target
	switch {
	case set["exec"]:
		target.Exec = &conformance.ExecSpec{Command: f.exec, FDLimit: f.fdLimit, StartupTimeout: f.startup, Restart: f.restart}
	case len(pos) == 1:
		if err := conformance.ValidateAddr(pos[0]); err != nil {
			return usageError(stderr, "check: %v", err)
		}
		target.Addr = pos[0]
	}
	if f.seed == 0 {
		return usageError(stderr, "check: --seed must not be 0")
	}

	// Open every output before the run, so a bad path costs no time.
	out := stdout
	var files []*os.File
	defer func() {
		for _, fl := range files {
			fl.Close()
		}
	}()
	if f.output != "" {
		fl, err := os.Create(f.output)
		if err != nil {
			return usageError(stderr, "check: --output: %v", err)
		}
		files = append(files, fl)
		out = fl
	}
	reportFiles := make([]*os.File, len(f.reports))
	for i, r := range f.reports {
		fl, err := os.Create(r.file)
		if err != nil {
			return usageError(stderr, "check: --report: %v", err)
		}
		files = append(files, fl)
		reportFiles[i] = fl
	}

	opts := conformance.Options{Run: f.run, Skip: f.skip, Strict: f.strict, TimeoutScale: f.scale,
		Repeat: f.repeat, Seed: f.seed, Parallel: f.parallel, ConfirmAlone: f.confirmAlone}
	streaming := f.format == "text" && f.output == ""
	color := streaming && !f.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)

	ctx, stdout, stderr, stop := runContext(stdout, stderr)
	defer stop()
	prog := newTermProgress(stdout, stderr, streaming, color, isTerminal(stderr) && !f.noColor && os.Getenv("NO_COLOR") == "")
	opts.Progress = prog.event
	var builtin string
	if target.Addr == "" && target.Exec == nil {
		srv, err := startReference()
		if err != nil {
			return usageError(stderr, "check: start the built-in reference server: %v", err)
		}
		defer srv.Close()
		target.Addr = srv.Addr
		builtin = "built-in reference server at " + srv.Addr
	}
	if streaming {
		title := target.String()
		if builtin != "" {
			title = builtin
		}
		prog.title = render.TitleLine(title, color)
	}
	rep, err := conformance.Run(ctx, target, opts)
	prog.clear()
	if err != nil {
		return usageError(stderr, "check: %v", err)
	}
	if builtin != "" {
		rep.Target = builtin
	}
	if ctx.Err() != nil {
		return usageError(stderr, "check: %s", interruption(ctx))
	}

	var mainOpts report.Options // the other reports are never coloured
	if streaming {
		mainOpts = report.Options{Color: color, OmitChecks: true, OmitTitle: prog.titleShown()}
	}
	format, _ := report.Lookup(f.format)
	if err := format.Write(out, rep, mainOpts); err != nil {
		return usageError(stderr, "check: %v", err)
	}
	for i, r := range f.reports {
		format, _ := report.Lookup(r.format)
		if err := format.Write(reportFiles[i], rep, report.Options{}); err != nil {
			return usageError(stderr, "check: --report %s: %v", r.format, err)
		}
	}
	for _, fl := range files {
		if err := fl.Close(); err != nil {
			return usageError(stderr, "check: %v", err)
		}
	}
	files = nil
	prog.verdict(rep)
	if rep.Verdict() == conformance.VerdictPass {
		return exitPass
	}
	return exitFail
}

// startReference starts the built-in reference server, turning its
// panic on failure into an error.
func startReference() (srv *echotest.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return echotest.NewServer(), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := stdio.File(w)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reportList is the repeatable --report FORMAT=FILE flag.
type reportList []reportSpec

type reportSpec struct{ format, file string }

func (r *reportList) String() string {
	var parts []string
	for _, s := range *r {
		parts = append(parts, s.format+"="+s.file)
	}
	return strings.Join(parts, ",")
}

func (r *reportList) Set(v string) error {
	format, file, ok := strings.Cut(v, "=")
	if !ok || format == "" || file == "" {
		return fmt.Errorf("want FORMAT=FILE, got %q", v)
	}
	*r = append(*r, reportSpec{format: format, file: file})
	return nil
}
