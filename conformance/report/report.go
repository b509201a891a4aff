// Package report renders a conformance.Report for people and tools.
//
// Every format is a Writer, func(io.Writer, *conformance.Report) error,
// registered by name in Formats: "text" for people, "json" for tools, and
// the grading and CI formats (junit, tap, gradescope, html). Write looks a
// format up by name.
//
// # JSON schema, version 1
//
// The json format writes one object. Fields are only ever added within a
// schema version; a removal or a change of meaning bumps schema_version.
//
//	{
//	  "schema_version": 1,
//	  "tool": "echoconf",
//	  "verdict": "pass" | "fail",      // fail when any check failed or errored
//	  "target": "127.0.0.1:7007",      // or the exec command as given
//	  "started": "2026-03-14T15:09:26Z",  // RFC 3339
//	  "duration_ms": 2310,
//	  "strict": false,
//	  "counts": {"pass": 24, "fail": 1, "warn": 0, "skip": 1, "error": 0},
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
//	    "status": "pass" | "fail" | "warn" | "skip" | "error",
//	    "selected": true,               // false when --run/--skip left it out
//	    "message": "...",               // one line; empty on pass
//	    "duration_ms": 12.5,
//	    "runs": 1, "failures": 0, "flaky": false,
//	    "server_died": "",              // how the server died during this check
//	    "failure": {                    // fail and warn only
//	      "kind": "no-eof", "diagnosis": "", "expected": "...", "actual": "...",
//	      "sent": 0, "received": 0, "offset": -1, "window_start": 0,
//	      "expected_hex": "", "actual_hex": "", "ending": "timeout",
//	      "conn": "", "detail": "", "cause": ""
//	    }
//	  }]
//	}
package report

import (
	"fmt"
	"io"
	"sort"

	"github.com/echoconf/echoconf/conformance"
)

// Writer renders a report in one format.
type Writer func(w io.Writer, r *conformance.Report) error

// Formats maps each format name accepted by --format and --report to its
// writer. Writers do not colour their output; the CLI uses TextWriter for
// a coloured terminal.
var Formats = map[string]Writer{
	"text":       Text,
	"json":       JSON,
	"junit":      JUnit,
	"tap":        TAP,
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

// Lookup returns the writer of a format, or an error naming the known ones.
func Lookup(format string) (Writer, error) {
	f, ok := Formats[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (known: %v)", format, Names())
	}
	return f, nil
}

// Write renders r to w in the named format.
func Write(format string, w io.Writer, r *conformance.Report) error {
	f, err := Lookup(format)
	if err != nil {
		return err
	}
	return f(w, r)
}
