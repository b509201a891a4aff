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

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/impl"
	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/process"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/internal/stdio"
	"github.com/echoconf/echoconf/spec"
)

const checkUsage = `Usage:
  echoconf check [flags] [HOST:PORT]
  echoconf check [flags] --exec 'COMMAND ... {port}'
  echoconf check --udp [flags] [HOST:PORT | --exec 'COMMAND ... {port}']

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
	udp            bool
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
	fs.IntVar(&f.fdLimit, "fd-limit", process.DefaultFDLimit, "open-file limit (RLIMIT_NOFILE) of the --exec server, `N`")
	fs.DurationVar(&f.startup, "startup-timeout", process.DefaultStartupTimeout, "how long the --exec server has to accept connections, `D`")
	fs.BoolVar(&f.restart, "restart", false, "restart the --exec server after it dies, for the remaining checks")
	fs.Uint64Var(&f.seed, "seed", engine.DefaultSeed, "payload seed `N` (the default makes runs repeatable)")
	fs.BoolVar(&f.noColor, "no-color", false, "never colour the text report (NO_COLOR is honoured too)")
	fs.IntVar(&f.parallel, "parallel", engine.DefaultParallel, "run up to `N` non-exclusive checks at once")
	fs.BoolVar(&f.udp, "udp", false, "check a UDP echo server with the udp catalogue (see echoconf list --udp)")
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

// runCheck is echoconf check: parse and validate everything, open every
// output, run the checks, then write the reports.
func runCheck(args []string, stdout, stderr io.Writer) int {
	var f checkFlags
	fs := newCheckFlagSet(&f)
	pos, code, done := parseCommand("check", fs, args, checkUsage, checkFooter, stdout, stderr)
	if done {
		return code
	}
	if f.list {
		return printCatalogue(stdout, stderr, f.catalogue(), f.run, f.skip)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	target, err := checkArgs(&f, set, pos)
	if err != nil {
		return usageError(stderr, "check: %v", err)
	}
	// Open every output before the run, so a bad path costs no time.
	outs, err := openCheckOutputs(&f, stdout)
	if err != nil {
		return usageError(stderr, "check: %v", err)
	}
	defer outs.close()
	streaming := f.format == "text" && f.output == ""
	color := streaming && !f.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)

	ctx, stdout, stderr, stop := runContext(stdout, stderr)
	defer stop()
	prog := newTermProgress(stdout, stderr, streaming, color, isTerminal(stderr) && !f.noColor && os.Getenv("NO_COLOR") == "")
	builtin, stopBuiltin, err := startBuiltin(&target)
	if err != nil {
		return usageError(stderr, "check: start the built-in reference server: %v", err)
	}
	defer stopBuiltin()
	if streaming {
		title := target.String()
		if builtin != "" {
			title = builtin
		}
		prog.title = render.TitleLine(title, color)
	}
	rep, err := engine.Run(ctx, target, f.engineOptions(prog.event))
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
	if err := outs.write(rep, mainOpts); err != nil {
		return usageError(stderr, "check: %v", err)
	}
	prog.verdict(rep)
	return verdictCode(rep)
}

// engineOptions are the engine's options for the flags, with progress.
func (f *checkFlags) engineOptions(progress func(engine.ProgressEvent)) engine.Options {
	return engine.Options{Checks: f.catalogue(), Run: f.run, Skip: f.skip, Strict: f.strict, TimeoutScale: f.scale,
		Repeat: f.repeat, Seed: f.seed, Parallel: f.parallel, ConfirmAlone: f.confirmAlone, Progress: progress}
}

// verdictCode is the exit code of a report's verdict.
func verdictCode(rep *engine.Report) int {
	if rep.Verdict() == engine.VerdictPass {
		return exitPass
	}
	return exitFail
}

// checkArgs validates the flags and arguments of echoconf check, lower-cases
// the format names, and returns the target: an address, a command to
// exec, or neither (the built-in reference server).
func checkArgs(f *checkFlags, set map[string]bool, pos []string) (engine.Target, error) {
	var target engine.Target
	if err := checkFlagValues(f, set, pos); err != nil {
		return target, err
	}
	if _, err := report.Lookup(f.format); err != nil {
		return target, fmt.Errorf("--format: %w", err)
	}
	// The selection is checked before anything starts or is printed.
	if _, err := engine.Select(engine.Options{Checks: f.catalogue(), Run: f.run, Skip: f.skip}); err != nil {
		return target, err
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
	switch {
	case set["exec"]:
		target.Exec = &engine.ExecSpec{Command: f.exec, FDLimit: f.fdLimit, StartupTimeout: f.startup, Restart: f.restart}
	case len(pos) == 1:
		if err := engine.ValidateAddr(pos[0]); err != nil {
			return target, err
		}
		target.Addr = pos[0]
	}
	if f.seed == 0 {
		return target, errors.New("--seed must not be 0")
	}
	if f.udp {
		target.Network = "udp"
	}
	return target, nil
}

// catalogue is the checks the flags name: the udp catalogue with --udp.
func (f *checkFlags) catalogue() []spec.Check {
	if f.udp {
		return spec.UDP()
	}
	return spec.All()
}

// checkFlagValues rejects flags that contradict each other or are out of
// range; set holds the names of the flags given.
func checkFlagValues(f *checkFlags, set map[string]bool, pos []string) error {
	switch {
	case len(pos) > 1:
		return fmt.Errorf("want at most one target, got %d: %s", len(pos), strings.Join(pos, " "))
	case len(pos) == 1 && set["exec"]:
		return errors.New("give either a target or --exec, not both")
	case set["exec"] && strings.TrimSpace(f.exec) == "":
		return errors.New("--exec needs a command")
	case set["exec"] && !strings.Contains(f.exec, "{port}"):
		return fmt.Errorf("the --exec command has no {port} placeholder: %q", f.exec)
	case !set["exec"] && (set["restart"] || set["fd-limit"] || set["startup-timeout"]):
		return errors.New("--restart, --fd-limit and --startup-timeout need --exec")
	case f.repeat < 1 || f.repeat > engine.MaxRepeat:
		return fmt.Errorf("--repeat must be in 1..%d, got %d", engine.MaxRepeat, f.repeat)
	case !(f.scale > 0 && f.scale <= 1000): // NaN fails every comparison
		return fmt.Errorf("--timeout-scale must be in (0, 1000], got %g", f.scale)
	case f.fdLimit < 8:
		return fmt.Errorf("--fd-limit must be at least 8, got %d", f.fdLimit)
	case f.startup <= 0:
		return fmt.Errorf("--startup-timeout must be positive, got %v", f.startup)
	case f.parallel < 1:
		return fmt.Errorf("--parallel must be at least 1, got %d", f.parallel)
	}
	return nil
}

// checkOutputs are the reports of one run: the --format one, to stdout or
// --output, and each --report, with the files they were opened on.
type checkOutputs struct {
	main    io.Writer
	format  report.Format
	reports []reportOutput
	files   []*os.File // open until write or close
}

type reportOutput struct {
	format report.Format
	file   *os.File
}

// openCheckOutputs looks up the formats and creates the files of every
// report; f's format names are valid (checkArgs).
func openCheckOutputs(f *checkFlags, stdout io.Writer) (*checkOutputs, error) {
	o := &checkOutputs{main: stdout}
	o.format, _ = report.Lookup(f.format)
	if f.output != "" {
		fl, err := os.Create(f.output)
		if err != nil {
			return nil, fmt.Errorf("--output: %w", err)
		}
		o.files = append(o.files, fl)
		o.main = fl
	}
	for _, r := range f.reports {
		format, _ := report.Lookup(r.format)
		fl, err := os.Create(r.file)
		if err != nil {
			o.close()
			return nil, fmt.Errorf("--report: %w", err)
		}
		o.files = append(o.files, fl)
		o.reports = append(o.reports, reportOutput{format: format, file: fl})
	}
	return o, nil
}

// write writes every report of rep, the main one with opts, then closes
// the files; it stops at the first report that fails.
func (o *checkOutputs) write(rep *engine.Report, opts report.Options) error {
	if err := o.format.Write(o.main, rep, opts); err != nil {
		return err
	}
	for _, r := range o.reports {
		if err := r.format.Write(r.file, rep, report.Options{}); err != nil {
			return fmt.Errorf("--report %s: %w", r.format.Name(), err)
		}
	}
	var first error
	for _, fl := range o.files {
		if err := fl.Close(); err != nil && first == nil {
			first = err
		}
	}
	o.files = nil
	return first
}

// close closes the files that write did not.
func (o *checkOutputs) close() {
	for _, fl := range o.files {
		fl.Close()
	}
	o.files = nil
}

// startBuiltin starts the built-in reference server when target names no
// server, points target at it, and returns the name the report gives it
// and how to stop it.
func startBuiltin(target *engine.Target) (name string, stop func(), err error) {
	if target.Addr != "" || target.Exec != nil {
		return "", func() {}, nil
	}
	if target.Network == "udp" {
		srv, err := recovered(func() *echotest.UDPServer { return echotest.NewUDPServer(impl.UDPConfig{}) })
		if err != nil {
			return "", nil, err
		}
		target.Addr = srv.Addr
		return "built-in reference UDP server at " + srv.Addr, func() { _ = srv.Close() }, nil
	}
	srv, err := recovered(echotest.NewServer)
	if err != nil {
		return "", nil, err
	}
	target.Addr = srv.Addr
	return "built-in reference server at " + srv.Addr, func() { srv.Close() }, nil
}

// recovered returns what start returns, turning its panic (the echotest
// servers panic when they cannot listen) into an error.
func recovered[T any](start func() T) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return start(), nil
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
