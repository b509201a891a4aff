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
	runFlags
	exec         string
	fdLimit      int
	startup      time.Duration
	restart      bool
	confirmAlone bool
	udp          bool
}

func newCheckFlagSet(f *checkFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs, runFlagHelp{category: "halfclose", list: "the catalogue (IDs, levels, requirements)", seed: "payload",
		parallel: "run up to `N` non-exclusive checks at once"})
	fs.StringVar(&f.exec, "exec", "", "start the server with `COMMAND`; {port} is replaced by a free port")
	fs.IntVar(&f.fdLimit, "fd-limit", process.DefaultFDLimit, "open-file limit (RLIMIT_NOFILE) of the --exec server, `N`")
	fs.DurationVar(&f.startup, "startup-timeout", process.DefaultStartupTimeout, "how long the --exec server has to accept connections, `D`")
	fs.BoolVar(&f.restart, "restart", false, "restart the --exec server after it dies, for the remaining checks")
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
	return checkRun{command: "check", flags: &f.runFlags, target: target, options: f.engineOptions(),
		start: startBuiltin, title: func(t engine.Target, name string, color bool) string {
			if name == "" {
				name = t.String()
			}
			return render.TitleLine(name, color)
		}}.run(stdout, stderr)
}

// engineOptions are the engine's options for the flags.
func (f *checkFlags) engineOptions() engine.Options {
	opts := f.options(f.catalogue())
	opts.ConfirmAlone = f.confirmAlone
	return opts
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
	if err := f.validate(f.catalogue(), "echoconf list"); err != nil {
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
	case f.fdLimit < 8:
		return fmt.Errorf("--fd-limit must be at least 8, got %d", f.fdLimit)
	case f.startup <= 0:
		return fmt.Errorf("--startup-timeout must be positive, got %v", f.startup)
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
// report; f's format names are valid (runFlags.validate).
func openCheckOutputs(f *runFlags, stdout io.Writer) (*checkOutputs, error) {
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
			return "", nil, fmt.Errorf("start the built-in reference UDP server: %w", err)
		}
		target.Addr = srv.Addr
		return "built-in reference UDP server at " + srv.Addr, func() { _ = srv.Close() }, nil
	}
	srv, err := recovered(echotest.NewServer)
	if err != nil {
		return "", nil, fmt.Errorf("start the built-in reference server: %w", err)
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
