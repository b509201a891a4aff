// Package report renders a engine.Report for people and tools.
//
// Every format is a Writer, func(io.Writer, *engine.Report) error,
// registered by name in Formats: "text" for people, "json" for tools, and
// the grading and CI formats (junit, tap, tap13, gradescope, html). Lookup
// and Write take a name in any case.
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
//	  "target": "127.0.0.1:7007",      // or the exec command as given
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
//	    },
//	    "replay": "echoconf check --select ID --seed N --timeout-scale F --exec '...'",  // not on pass or skip
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
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
)

// Writer renders a report in one format.
type Writer func(w io.Writer, r *engine.Report) error

// Formats maps each format name accepted by --format and --report to its
// writer. Writers do not colour their output; the CLI uses TextWriter for
// a coloured terminal.
var Formats = map[string]Writer{
	"text":       Text,
	"json":       JSON,
	"junit":      JUnit,
	"tap":        TAP,
	"tap13":      TAP13,
	"gradescope": Gradescope,
	"html":       HTML,
}

// Names returns the format names, sorted.
func Names() []string {
	names := make([]string, 0, len(Formats))
	for n := range Formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the writer of a format, whatever the case of its name
// ("JUnit" is "junit"), or an error that names the known ones.
func Lookup(format string) (Writer, error) {
	f, ok := Formats[strings.ToLower(format)]
	if !ok {
		return nil, fmt.Errorf("unknown format %q: the formats are %s", format, NamesProse())
	}
	return f, nil
}

// NamesProse lists the format names as prose: "gradescope, html, json,
// junit, tap, tap13 and text".
func NamesProse() string {
	n := Names()
	if len(n) == 1 {
		return n[0]
	}
	return strings.Join(n[:len(n)-1], ", ") + " and " + n[len(n)-1]
}

// Write renders r to w in the named format.
func Write(format string, w io.Writer, r *engine.Report) error {
	f, err := Lookup(format)
	if err != nil {
		return err
	}
	return f(w, r)
}
