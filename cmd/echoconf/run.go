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

// runFlags are the flags that check and check-client share: which checks
// run and how, and where the reports go. Each command registers them with
// its own help texts.
type runFlags struct {
	run, skip      globList
	reports        reportList
	list, strict   bool
	repeat         int
	scale          float64
	format, output string
	seed           uint64
	noColor        bool
	parallel       int
}

// validate rejects out-of-range values, an unknown format and a selection
// that names no check of catalogue, and lower-cases the format names.
// listCommand is how the error points at the catalogue's listing.
func (f *runFlags) validate(catalogue []spec.Check, listCommand string) error {
	switch {
	case f.repeat < 1 || f.repeat > engine.MaxRepeat:
		return fmt.Errorf("--repeat must be in 1..%d, got %d", engine.MaxRepeat, f.repeat)
	case !(f.scale > 0 && f.scale <= 1000): // NaN fails every comparison
		return fmt.Errorf("--timeout-scale must be in (0, 1000], got %g", f.scale)
	case f.parallel < 1:
		return fmt.Errorf("--parallel must be at least 1, got %d", f.parallel)
	case f.seed == 0:
		return errors.New("--seed must not be 0")
	}
	if _, err := report.Lookup(f.format); err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	// The selection is checked before anything starts or is printed.
	if _, err := engine.Select(engine.Options{Checks: catalogue, Run: f.run, Skip: f.skip}); err != nil {
		// The engine points at the server catalogue's listing.
		return errors.New(strings.Replace(err.Error(), "(see echoconf list)", "(see "+listCommand+")", 1))
	}
	f.format = strings.ToLower(f.format)
	for i, r := range f.reports {
		if _, err := report.Lookup(r.format); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		f.reports[i].format = strings.ToLower(r.format)
	}
	return distinctOutputs(f.output, f.reports)
}

// options are the engine's options for the flags, on catalogue.
func (f *runFlags) options(catalogue []spec.Check) engine.Options {
	return engine.Options{Checks: catalogue, Run: f.run, Skip: f.skip, Strict: f.strict, TimeoutScale: f.scale,
		Repeat: f.repeat, Seed: f.seed, Parallel: f.parallel}
}

// checkRun is one validated run of check or check-client.
type checkRun struct {
	command string // "check" or "check-client", for messages
	flags   *runFlags
	target  engine.Target
	options engine.Options // without Progress
	// start, when set, starts what target names nothing for (the built-in
	// server) and returns the name the report gives it and how to stop it.
	start func(*engine.Target) (name string, stop func(), err error)
	// title is the text report's title line for the target, named name
	// when start started it.
	title func(t engine.Target, name string, color bool) string
}

// run opens every output, runs the checks with live progress on a
// terminal, then writes the reports; it returns the exit code.
func (r checkRun) run(stdout, stderr io.Writer) int {
	f := r.flags
	// Open every output before the run, so a bad path costs no time.
	outs, err := openCheckOutputs(f, stdout)
	if err != nil {
		return usageError(stderr, "%s: %v", r.command, err)
	}
	defer outs.close()
	streaming := f.format == "text" && f.output == ""
	color := streaming && !f.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)

	ctx, stdout, stderr, stop := runContext(stdout, stderr)
	defer stop()
	prog := newTermProgress(stdout, stderr, streaming, color, isTerminal(stderr) && !f.noColor && os.Getenv("NO_COLOR") == "")
	var name string
	if r.start != nil {
		n, stopStarted, err := r.start(&r.target)
		if err != nil {
			return usageError(stderr, "%s: %v", r.command, err)
		}
		defer stopStarted()
		name = n
	}
	if streaming {
		prog.title = r.title(r.target, name, color)
	}
	opts := r.options
	opts.Progress = prog.event
	rep, err := engine.Run(ctx, r.target, opts)
	prog.clear()
	if err != nil {
		return usageError(stderr, "%s: %v", r.command, err)
	}
	if name != "" {
		rep.Target = name
	}
	if ctx.Err() != nil {
		return usageError(stderr, "%s: %s", r.command, interruption(ctx))
	}
	var mainOpts report.Options // the other reports are never coloured
	if streaming {
		mainOpts = report.Options{Color: color, OmitChecks: true, OmitTitle: prog.titleShown()}
	}
	if err := outs.write(rep, mainOpts); err != nil {
		return usageError(stderr, "%s: %v", r.command, err)
	}
	prog.verdict(rep)
	return verdictCode(rep)
}

// runFlagHelp is the help that differs between check and check-client:
// a category to give as the --select example, what --list prints, what the
// seed makes, and what --parallel runs at once.
type runFlagHelp struct{ category, list, seed, parallel string }

// register defines the shared flags on fs.
func (f *runFlags) register(fs *flag.FlagSet, h runFlagHelp) {
	fs.Var(&f.run, "select", fmt.Sprintf("run only checks whose ID matches `GLOB` (path.Match; %q means \"%s/*\"); repeatable or comma-separated", h.category, h.category))
	fs.Var(&f.run, "run", "the same as --select `GLOB`")
	fs.Var(&f.skip, "skip", "skip checks whose ID matches `GLOB`; repeatable or comma-separated")
	fs.BoolVar(&f.list, "list", false, "print "+h.list+" and exit")
	fs.BoolVar(&f.strict, "strict", false, "make SHOULD failures fail the verdict instead of warning")
	fs.IntVar(&f.repeat, "repeat", 1, "run each check `N` times to expose flaky results")
	fs.Float64Var(&f.scale, "timeout-scale", 1, "multiply every timeout by `F` (for slow machines)")
	fs.StringVar(&f.format, "format", "text", "report `FORMAT`: "+render.List(report.Names())+" (any case)")
	fs.StringVar(&f.output, "output", "", "write the report to `FILE` instead of stdout")
	fs.Var(&f.reports, "report", "also write a report in `FORMAT=FILE`; repeatable")
	fs.Uint64Var(&f.seed, "seed", engine.DefaultSeed, h.seed+" seed `N` (the default makes runs repeatable)")
	fs.BoolVar(&f.noColor, "no-color", false, "never colour the text report (NO_COLOR is honoured too)")
	fs.IntVar(&f.parallel, "parallel", engine.DefaultParallel, h.parallel)
}
