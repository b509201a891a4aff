package main

import (
	"flag"
	"io"

	"github.com/echoconf/echoconf/grade"
)

const mergeUsage = `Usage: echoconf grade merge --out DIR RUN_DIR...

Combines the --out directories of several runs of "echoconf grade" on one
class, typically its shards (--shard K/N), into DIR, which must be new or
empty: every submission's reports, and summary.csv (also printed on stdout),
index.html and grade.json for the whole class, as a single run of the whole
class would have written them, except for timings.

It refuses, with a message naming what is wrong: a run that did not finish,
runs of different echoconf versions (the merging echoconf included) or
configurations (rubric, selected checks, --strict, --repeat,
--timeout-scale, --binary, --run, a client's --shape and --tty), runs of
different classes, a submission graded twice, and a missing shard.

Flags:
`

const mergeFooter = `
Exit codes: 0 merged, 2 usage error or runs that cannot be merged.
`

// runGradeMerge is echoconf grade merge.
func runGradeMerge(args []string, stdout, stderr io.Writer) int {
	var out string
	fs := flag.NewFlagSet("grade merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&out, "out", "", "write the merged results to `DIR` (new or empty)")
	pos, code, done := parseCommand("grade merge", fs, args, mergeUsage, mergeFooter, stdout, stderr)
	if done {
		return code
	}
	switch {
	case out == "":
		return usageError(stderr, "grade merge: --out DIR is required")
	case len(pos) == 0:
		return usageError(stderr, "grade merge: want the --out directories of the runs to merge")
	}
	results, err := grade.Merge(out, pos)
	if err != nil {
		return usageError(stderr, "grade merge: %v", err)
	}
	if err := grade.WriteSummaryCSV(stdout, results); err != nil {
		return usageError(stderr, "grade merge: %v", err)
	}
	return exitPass
}
