// Command accuracy measures the conformance suite against the gallery of C
// echo servers and clients in testdata/ ("make accuracy"): it builds every
// program with gcc, runs the whole catalogue against each server in exec
// mode and the client catalogue against each client, and prints a table
// for a person to read (program, kind, expected result, obtained result,
// failed checks, time), servers and clients apart, each with a summary
// line:
//
//	faulty servers caught: X/Y, correct servers passed: A/B, slowest: NAME (T)
//	faulty clients caught: X/Y, correct clients passed: A/B, slowest: NAME (T)
//
// A faulty server is caught when every check its manifest entry names
// failed (or warned, for SHOULD checks); a correct server passes when no
// check fails or warns. Lines under a row explain any difference from the
// manifest's expectation.
//
// Usage:
//
//	accuracy [-parallel N] [-only REGEXP] [-v] [-repeat N] [-hogs K]
//
// -repeat N runs the whole gallery N times, and -hogs K does so beside K
// CPU-bound neighbour processes (each in its own process group, killed at
// the end), to show that verdicts hold on a loaded machine. With N > 1 the
// table is replaced by one line per repeat, each server whose result
// differed from its manifest entry, and the summary
//
//	repeats: N, beside K CPU-bound neighbours: wrong verdicts V of R server runs, other differences D
//
// (and the same for client runs), where a wrong verdict is a pass for a
// program expected to fail or the reverse, and another difference is any other status that differs from
// the manifest (or processes left running).
//
// Exit codes: 0 every expectation is met; 1 some expectation is not met;
// 2 bad usage, or the gallery could not be loaded or built.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/gallery"
	"github.com/echoconf/echoconf/spec"
)

// Exit codes.
const (
	exitOK       = 0
	exitMismatch = 1
	exitSetup    = 2
)

// Bounds of -repeat and -hogs.
const (
	maxRepeat = 100
	maxHogs   = 64
)

func main() {
	if os.Getenv(hogEnv) == "1" {
		spin()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	parallel int
	only     *regexp.Regexp
	verbose  bool
	repeat   int
	hogs     int
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("accuracy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var only string
	fs.IntVar(&c.parallel, "parallel", gallery.DefaultParallel, "how many servers to check at once")
	fs.StringVar(&only, "only", "", "check only the servers and clients whose name matches this regular expression")
	fs.BoolVar(&c.verbose, "v", false, "print each failed check's summary under its server")
	fs.IntVar(&c.repeat, "repeat", 1, "run the whole gallery this many times")
	fs.IntVar(&c.hogs, "hogs", 0, "run beside this many CPU-bound neighbour processes")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.parallel < 1 {
		return c, fmt.Errorf("-parallel must be at least 1, got %d", c.parallel)
	}
	if c.repeat < 1 || c.repeat > maxRepeat {
		return c, fmt.Errorf("-repeat must be between 1 and %d, got %d", maxRepeat, c.repeat)
	}
	if c.hogs < 0 || c.hogs > maxHogs {
		return c, fmt.Errorf("-hogs must be between 0 and %d, got %d", maxHogs, c.hogs)
	}
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return c, fmt.Errorf("-only: %w", err)
		}
		c.only = re
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "accuracy: %v\n", err)
		return exitSetup
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	galleries, err := loadGalleries(cfg.only)
	if err != nil {
		fmt.Fprintf(stderr, "accuracy: %v\n", err)
		return exitSetup
	}
	dir, err := os.MkdirTemp("", "echoconf-accuracy-")
	if err != nil {
		fmt.Fprintf(stderr, "accuracy: %v\n", err)
		return exitSetup
	}
	defer os.RemoveAll(dir)
	for i := range galleries {
		g := &galleries[i]
		if g.bins, err = g.m.BuildAll(ctx, g.programs, dir); err != nil {
			fmt.Fprintf(stderr, "accuracy: %v\n", err)
			return exitSetup
		}
		fmt.Fprintf(stderr, "accuracy: built %d %ss with %s %s; checking %d at a time\n",
			len(g.programs), g.noun, gallery.Compiler(), strings.Join(gallery.BaseCFlags, " "), cfg.parallel)
	}

	h, err := startHogs(cfg.hogs)
	if err != nil {
		fmt.Fprintf(stderr, "accuracy: %v\n", err)
		return exitSetup
	}
	defer h.stop()
	if cfg.hogs > 0 {
		fmt.Fprintf(stderr, "accuracy: %d CPU-bound neighbours running\n", cfg.hogs)
	}

	var mu sync.Mutex
	for r := 1; r <= cfg.repeat; r++ {
		progress := func(sr gallery.ServerRun) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stderr, "accuracy: %-20s done in %s (repeat %d of %d)\n", sr.Program.Name, sr.Elapsed.Round(100*time.Millisecond), r, cfg.repeat)
		}
		start := time.Now()
		for i := range galleries {
			g := &galleries[i]
			g.rounds = append(g.rounds, gallery.RunAll(ctx, g.programs, g.bins, cfg.parallel, engine.Options{}, nil, progress))
		}
		if cfg.repeat > 1 {
			fmt.Fprintf(stderr, "accuracy: repeat %d of %d took %s\n", r, cfg.repeat, time.Since(start).Round(100*time.Millisecond))
		}
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "accuracy: interrupted\n")
			return exitSetup
		}
	}
	allMet := true
	for i, g := range galleries {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if cfg.repeat == 1 {
			allMet = printTable(stdout, g.noun, g.rounds[0], cfg.verbose) && allMet
		} else {
			allMet = printRepeats(stdout, g.noun, g.rounds, cfg.hogs) && allMet
		}
	}
	if !allMet {
		return exitMismatch
	}
	return exitOK
}

// galleryRun is the servers or the clients of the gallery, and their runs.
type galleryRun struct {
	noun     string // "server" or "client"
	m        *gallery.Manifest
	programs []gallery.Program
	bins     map[string]string
	rounds   [][]gallery.ServerRun
}

// loadGalleries loads the server and client manifests and keeps the
// programs whose name only matches (all when only is nil); a gallery with
// no program left is dropped, and none at all is an error.
func loadGalleries(only *regexp.Regexp) ([]galleryRun, error) {
	servers, err := gallery.Load()
	if err != nil {
		return nil, err
	}
	if err := servers.ValidateIDs(gallery.AllCheckIDs()); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	clients, err := gallery.LoadClients()
	if err != nil {
		return nil, err
	}
	var out []galleryRun
	for _, g := range []galleryRun{{noun: "server", m: servers}, {noun: "client", m: clients}} {
		ps := g.m.Servers
		if g.noun == "client" {
			ps = g.m.Clients
		}
		for _, p := range ps {
			if only == nil || only.MatchString(p.Name) {
				g.programs = append(g.programs, p)
			}
		}
		if len(g.programs) > 0 {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no server or client matches -only")
	}
	return out, nil
}

// printRepeats writes one line per repeat, a line for every server run
// that differed from its manifest entry, and the summary; it reports
// whether every run met its expectation.
func printRepeats(w io.Writer, noun string, rounds [][]gallery.ServerRun, hogs int) bool {
	wrong, other, total := 0, 0, 0
	for i, runs := range rounds {
		var lines []string
		rw, ro := 0, 0
		var took time.Duration
		for _, r := range runs {
			total++
			took = max(took, r.Elapsed)
			p := r.Program
			switch {
			case r.Err != nil:
				rw++
				lines = append(lines, fmt.Sprintf("  %s: error: %v", p.Name, r.Err))
				continue
			case len(r.Leftovers) > 0:
				ro++
				lines = append(lines, fmt.Sprintf("  %s: processes left running: %v", p.Name, r.Leftovers))
			}
			o := p.Evaluate(r.Report, gallery.ResultIDs(r.Report))
			if o.Met {
				continue
			}
			if string(o.Verdict) != p.Expect.Verdict() {
				rw++
				lines = append(lines, fmt.Sprintf("  %s: WRONG VERDICT %s, expected %s: %s", p.Name, o.Verdict, p.Expect.Verdict(), strings.Join(o.Problems, "; ")))
			} else {
				ro++
				lines = append(lines, fmt.Sprintf("  %s: verdict right, but %s", p.Name, strings.Join(o.Problems, "; ")))
			}
		}
		fmt.Fprintf(w, "repeat %d of %d: %d %ss, wrong verdicts %d, other differences %d, slowest %s\n",
			i+1, len(rounds), len(runs), noun, rw, ro, took.Round(100*time.Millisecond))
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		wrong += rw
		other += ro
	}
	fmt.Fprintf(w, "repeats: %d, beside %d CPU-bound neighbours: wrong verdicts %d of %d %s runs, other differences %d\n",
		len(rounds), hogs, wrong, total, noun, other)
	return wrong == 0 && other == 0
}

// printTable writes the table and the summary; it reports whether every
// expectation was met.
func printTable(w io.Writer, noun string, runs []gallery.ServerRun, verbose bool) bool {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tKIND\tEXPECTED\tOBTAINED\tFAILED CHECKS\tTIME\n", strings.ToUpper(noun))
	allMet := true
	var details []string
	counts := map[gallery.Kind][2]int{} // kind -> {met, total}
	var slowest gallery.ServerRun
	for _, r := range runs {
		p := r.Program
		expected := p.Expect.Verdict()
		if n := len(p.Expect.Fail) + len(p.Expect.Warn) + len(p.Expect.Unjudged); n > 0 {
			expected = fmt.Sprintf("%s, %d named", expected, n)
		}
		if len(p.Expect.CaughtBy) > 0 {
			expected += fmt.Sprintf(", 1 of %d", len(p.Expect.CaughtBy))
		}
		var obtained, failed string
		var notes []string
		met := false
		switch {
		case r.Err != nil:
			obtained = "error"
			notes = append(notes, r.Err.Error())
		default:
			o := p.Evaluate(r.Report, gallery.ResultIDs(r.Report))
			met = o.Met
			obtained = string(o.Verdict)
			if !o.Met {
				obtained += " MISMATCH"
			}
			failed = list(o.Failed, o.Warned)
			notes = append(notes, o.Problems...)
			if verbose {
				for _, res := range r.Report.Results {
					if res.Status == engine.StatusFail || res.Status == engine.StatusWarn || res.Status == engine.StatusError {
						notes = append(notes, fmt.Sprintf("%s %s: %v", res.Check.ID, res.Status, oneLine(res.Err)))
					}
				}
			}
		}
		if len(r.Leftovers) > 0 {
			met = false
			obtained += " LEFTOVERS"
			notes = append(notes, fmt.Sprintf("processes left running: %v", r.Leftovers))
		}
		if !met {
			allMet = false
		}
		c := counts[p.Kind]
		c[1]++
		if met {
			c[0]++
		}
		counts[p.Kind] = c
		if r.Elapsed > slowest.Elapsed {
			slowest = r
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, expected, obtained, failed, r.Elapsed.Round(100*time.Millisecond))
		if len(notes) > 0 {
			details = append(details, p.Name+":")
			for _, n := range notes {
				details = append(details, "  "+n)
			}
		}
	}
	tw.Flush()
	if len(details) > 0 {
		fmt.Fprintf(w, "\n%s\n\n", strings.Join(details, "\n"))
	}
	if c := counts[gallery.KindMisbehaving]; c[1] > 0 {
		fmt.Fprintf(w, "misbehaving fixtures handled as expected: %d/%d\n", c[0], c[1])
	}
	f, k := counts[gallery.KindFaulty], counts[gallery.KindCorrect]
	fmt.Fprintf(w, "faulty %ss caught: %d/%d, correct %ss passed: %d/%d, slowest: %s (%s)\n",
		noun, f[0], f[1], noun, k[0], k[1], slowest.Program.Name, slowest.Elapsed.Round(100*time.Millisecond))
	return allMet
}

// list names the failed and warned checks, the warned ones marked
// "(warn)"; past four it counts them by category instead, in catalogue
// order ("basic 5, large 4, robustness 3+2 warn").
func list(failed, warned []string) string {
	if len(failed)+len(warned) == 0 {
		return "-"
	}
	if len(failed)+len(warned) <= 4 {
		parts := append([]string(nil), failed...)
		for _, id := range warned {
			parts = append(parts, id+"(warn)")
		}
		return strings.Join(parts, " ")
	}
	nf, nw := map[string]int{}, map[string]int{}
	for _, id := range failed {
		nf[category(id)]++
	}
	for _, id := range warned {
		nw[category(id)]++
	}
	var parts []string
	for _, cat := range append(spec.Categories(), spec.CategoryUDP, spec.CategoryClient) {
		switch f, w := nf[cat], nw[cat]; {
		case f > 0 && w > 0:
			parts = append(parts, fmt.Sprintf("%s %d+%d warn", cat, f, w))
		case f > 0:
			parts = append(parts, fmt.Sprintf("%s %d", cat, f))
		case w > 0:
			parts = append(parts, fmt.Sprintf("%s %d warn", cat, w))
		}
	}
	return fmt.Sprintf("%d: %s", len(failed)+len(warned), strings.Join(parts, ", "))
}

func category(id string) string {
	if i := strings.IndexByte(id, '/'); i >= 0 {
		return id[:i]
	}
	return id
}

func oneLine(err error) string {
	if err == nil {
		return ""
	}
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
