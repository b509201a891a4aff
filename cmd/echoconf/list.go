package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// runList prints the catalogue: echoconf list [--udp|--client] [--select GLOB] [--skip GLOB]
// (--run is the same as --select).
func runList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var runGlobs, skipGlobs globList
	fs.Var(&runGlobs, "select", "list only checks matching `GLOB`")
	fs.Var(&runGlobs, "run", "the same as --select `GLOB`")
	fs.Var(&skipGlobs, "skip", "leave out checks matching `GLOB`")
	udp := fs.Bool("udp", false, "list the UDP catalogue")
	client := fs.Bool("client", false, "list the client catalogue (echoconf check-client)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: echoconf list [--udp | --client] [--select GLOB] [--skip GLOB]\n\nPrints every check: ID, level, flags (X runs alone, D after the others, L last,\nP needs --exec), timeout and requirement. --udp lists the checks of UDP echo\nservers, --client those of echo clients (echoconf check-client).")
			return exitPass
		}
		return usageError(stderr, "%v", err)
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "list takes no arguments, got %q", fs.Arg(0))
	}
	checks := spec.All()
	switch {
	case *udp && *client:
		return usageError(stderr, "list: --udp and --client name two catalogues; give one")
	case *udp:
		checks = spec.UDP()
	case *client:
		checks = spec.Clients()
	}
	return printCatalogue(stdout, stderr, checks, runGlobs, skipGlobs)
}

// printCatalogue writes the selected checks as a table.
func printCatalogue(stdout, stderr io.Writer, catalogue []spec.Check, run, skip []string) int {
	checks, err := engine.Select(engine.Options{Checks: catalogue, Run: run, Skip: skip})
	if err != nil {
		return usageError(stderr, "%v", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tFLAGS\tTIMEOUT\tREQUIREMENT")
	for _, c := range checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", c.ID, c.Level, catalogueFlags(c), c.Timeout, c.Requirement)
	}
	if err := tw.Flush(); err != nil {
		return usageError(stderr, "write catalogue: %v", err)
	}
	if len(checks) > 0 && checks[0].Needs == spec.NeedsClient {
		fmt.Fprintln(stdout, "\nEach check runs the client once, against a server of its own that echoconf plays;\na check that does not apply to the client's shape is skipped (echoconf check-client).")
		return exitPass
	}
	fmt.Fprintln(stdout, "\nFLAGS: X runs alone, D runs after the others (it may crash the server), L runs last,\nP needs the server's process (--exec) and is skipped otherwise.")
	return exitPass
}

// globList is a repeatable flag whose values may also be comma-separated.
type globList []string

func (g *globList) String() string { return strings.Join(*g, ",") }

func (g *globList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return fmt.Errorf("empty pattern in %q", v)
		}
		*g = append(*g, p)
	}
	return nil
}

// catalogueFlags is the FLAGS column of a check: when it runs and what it needs.
func catalogueFlags(c spec.Check) string {
	flags := map[spec.Schedule]string{spec.Alone: "X", spec.Disruptive: "D", spec.Last: "L"}[c.Schedule]
	if c.Needs == spec.NeedsProcess {
		flags += "P"
	}
	if flags == "" {
		return "-"
	}
	return flags
}
