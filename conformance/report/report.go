// Package report renders a engine.Report for people and tools.
//
// The API is one registry of formats, one options value and the rubric:
//
//	f, err := report.Lookup("junit")      // any case; Names lists them
//	err = f.Write(w, rep, report.Options{}) // the zero Options are every format's defaults
//
// The registry cannot be changed: Lookup returns a copy of a Format, whose
// fields are unexported. A Rubric gives each check its points.
//
// # Formats
//
//   - text: for people: a line per check, the diagnostics, the server, the
//     verdict; colours only with Options.Color.
//   - json: for tools; the schema is below.
//   - junit: JUnit XML valid against the Ant, Jenkins xunit and JUnit 5
//     schemas; only a pass is green; a warning or an unjudged check is
//     <skipped> (a <failure> under --strict).
//   - tap, tap13: TAP 14 with YAML diagnostics (node-tap's wanted/found),
//     and the same stream as TAP 13 for Perl's prove; a warning is
//     "not ok # TODO", an unjudged check "ok # SKIP".
//   - gradescope: Gradescope's results.json, scored with Options.Rubric
//     (default: DefaultRubric), with a diagnosis a student can act on.
//   - html: one self-contained page (no script, no external asset); with
//     Options.Rubric, a score and a points column.
//
// Every failed, warned, unjudged or errored check carries, in every format,
// the command that replays it and the timeline of its exchange.
//
// A report of an echo client (echoconf check-client: engine.Report.Client
// is set) is written the same way, worded for a client, with the client's
// shape (json "client", junit properties client.shape and client.tty, a tap
// "# client:" comment, a line in text, html and gradescope), and the
// gradescope format scores it with DefaultClientRubric unless
// Options.Rubric is set (a UDP server's report: DefaultUDPRubric).
//
// # JSON schema, version 1
//
// The json format writes one object. Fields (and status values: unjudged)
// are only ever added within a schema version; a removal or a change of
// meaning bumps schema_version.
//
//	{
//	  "schema_version": 1,
//	  "tool": "echoconf",
//	  "verdict": "pass" | "fail",      // fail when any check failed or errored (or, strict, was not judged)
//	  "target": "127.0.0.1:7007",      // or the exec command as given (a client report: the client's command)
//	  "started": "2026-03-14T15:09:26Z",  // RFC 3339
//	  "duration_ms": 2310,
//	  "strict": false,
//	  "seed": 7305797848143982182, "timeout_scale": 1,
//	  "counts": {"pass": 24, "fail": 1, "warn": 0, "unjudged": 0, "skip": 1, "error": 0},
//	  "server": {                      // exec mode only, else absent
//	    "command": "./server 41234", "pid": 1234, "restarts": 0,
//	    "exit": "",                     // how it ended by itself, if it did
//	    "deaths": ["died during basic/many-messages: signal: broken pipe"],
//	    "output": "...", "output_truncated": false
//	  },
//	  "client": {                      // a client report only (echoconf check-client), else absent
//	    "shape": "argument" | "interactive" | "stream",
//	    "tty": false                    // the client's stdin was a terminal (--tty)
//	  },
//	  "checks": [{                     // every check of the catalogue, catalogue order
//	    "id": "halfclose/no-data", "category": "halfclose",
//	    "level": "MUST" | "SHOULD",
//	    "requirement": "When the client half-closes ...",
//	    "status": "pass" | "fail" | "warn" | "unjudged" | "skip" | "error",
//	                                    // unjudged: a SHOULD check the server's faults kept from being judged
//	    "selected": true,               // false when --run/--skip left it out
//	    "message": "...",               // one line; empty on pass
//	    "duration_ms": 12.5,
//	    "runs": 1, "failures": 0, "flaky": false,
//	    "server_died": "",              // how the server died during this check
//	    "failure": {                    // fail, warn and unjudged only
//	      "kind": "no-eof", "diagnosis": "", "expected": "...", "actual": "...",
//	      "sent": 0, "received": 0, "offset": -1, "window_start": 0,
//	      "expected_hex": "", "actual_hex": "", "ending": "timeout",
//	      "conn": "", "detail": "", "cause": ""
//	    },                              // in a client report, bytes are counted by echoconf's server:
//	                                    // "received" is what the client sent, "sent" what the server sent it
//	    "replay": "echoconf check --select ID --seed N --timeout-scale F --exec '...'",  // not on pass or skip;
//	                                    // a client's: "echoconf check-client --select ID --seed N --timeout-scale F --shape S [--tty] --exec '...'"
//	    "timeline": {                   // not on pass or skip; absent when no connection was made
//	      "conns": 1, "written": 4096, "read": 17,
//	      "head": [{"at_ms": 0.2, "conn": 1, "op": "connect" | "write" | "read" | "half-close" | "reset" | "close",
//	                "bytes": 0, "end": "eof (the server closed)" | "reset" | "timeout" | ...}],
//	      "omitted": 0, "tail": [...]   // the first and the last events, and how many between
//	    }
//	  }]
//	}
package report

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
)

// SchemaVersion is the version of the json format's schema (see above).
const SchemaVersion = render.SchemaVersion

// Format is one report format. Its zero value is no format: Write fails.
type Format struct {
	name  string
	write func(w io.Writer, r *engine.Report, o Options) error
}

// Name is the format's name, as --format and --report take it.
func (f Format) Name() string { return f.name }

// Write renders r to w with o. A format reads the options it knows and
// ignores the others. No format colours its output unless o.Color is set.
func (f Format) Write(w io.Writer, r *engine.Report, o Options) error {
	if f.write == nil {
		return errors.New("report: write with the zero Format")
	}
	return f.write(w, r, o)
}

// formats is the registry, sorted by name.
var formats = []Format{
	{name: "gradescope", write: writeGradescope},
	{name: "html", write: writeHTML},
	{name: "json", write: writeJSON},
	{name: "junit", write: writeJUnit},
	{name: "tap", write: func(w io.Writer, r *engine.Report, _ Options) error { return writeTAP(w, r, 14) }},
	{name: "tap13", write: func(w io.Writer, r *engine.Report, _ Options) error { return writeTAP(w, r, 13) }},
	{name: "text", write: writeText},
}

// Names returns the format names, sorted.
func Names() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	return names
}

// Lookup returns the format of that name, whatever its case ("JUnit" is
// "junit"), or an error that names the known ones.
func Lookup(name string) (Format, error) {
	for _, f := range formats {
		if f.name == strings.ToLower(name) {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("unknown format %q: the formats are %s", name, render.List(Names()))
}

// Options tune the formats; each reads the fields it knows. The zero
// value gives every format its defaults.
type Options struct {
	// Title heads the report: in text, a line above "echoconf check
	// TARGET"; in html, the page's title (default "echoconf: TARGET"); in
	// junit, the suite's name (default "echoconf").
	Title string
	// Heading (html), when set, heads the page above the verdict.
	Heading string
	// Color (text) adds ANSI colours to statuses and the verdict.
	Color bool
	// OmitTitle and OmitChecks (text) leave out the title line and the
	// per-check lines, for a report that follows lines already streamed.
	OmitTitle, OmitChecks bool
	// OutputLines (text) bounds the server output excerpt (default 40).
	OutputLines int
	// Hostname (junit) is the host the checks ran on; default
	// os.Hostname(), or "localhost" when that fails.
	Hostname string
	// Rubric scores the checks: gradescope uses the default rubric
	// without it; html adds a score and a points column with it.
	Rubric *Rubric
	// Build (html), when set, says that the submission did not build: the
	// page scores 0 of the rubric's total and shows the compiler's output.
	Build *BuildFailure
}

// BuildFailure is a build that failed.
type BuildFailure struct {
	Command string // the build command, if known
	Output  string // the compiler's output
}
