package report

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
)

// writeTAP writes r as TAP (the "tap" format, version 14, and "tap13"):
//
//	TAP version 14
//	1..N
//	ok 1 - basic/no-greeting
//	not ok 2 - basic/small-message
//	  ---
//	  message: ...
//	  severity: fail
//	  ...
//	  wanted: 4096 bytes echoed unchanged
//	  found: ...
//	  replay: echoconf check --select basic/small-message ...
//	  timeline: [...]
//	  ...
//	ok 3 - robustness/no-zombies # SKIP needs the server process
//	not ok 4 - robustness/fd-stable # TODO SHOULD requirement violated (warning: the run is not strict)
//	ok 5 - robustness/no-zombies # SKIP not judged: the server did not serve this check's traffic correctly
//
// The plan comes first. Every failed, warned, unjudged or errored check
// carries a YAML diagnostics block (two-space indent, marshalled with
// go.yaml.in/yaml/v3 so that any text is escaped correctly) with the
// message, severity, level, requirement, kind, diagnosis, byte counts,
// offsets, hex windows, the replay command and the timeline. What was
// expected and what came are node-tap's "wanted" and "found" keys, which
// tap-mocha-reporter and the other node-tap reporters print.
//
// A warning (a SHOULD requirement violated in a non-strict run) is written
// "not ok ... # TODO": TAP's own way to say "this fails, and that is known
// and does not fail the run", which harnesses count as passing while still
// showing it. A check that could not be judged is "ok ... # SKIP": neither a
// pass nor a warning. Under --strict the engine fails both: a plain
// "not ok". A check that could not run (status error) is "not ok" with
// severity error. The server's command and output (exec mode) follow as "#"
// comment lines.
//
// Perl's prove (TAP::Harness 3.44) refuses TAP version 14; tap13 writes
// the same stream as version 13 for it and the other harnesses that
// predate TAP 14. node-tap's tap-parser reads both.
func writeTAP(w io.Writer, r *engine.Report, version int) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "TAP version %d\n1..%d\n", version, len(r.Results))
	for i, res := range r.Results {
		tapPoint(bw, r, i+1, res)
		if (res.Status == engine.StatusPass || res.Status == engine.StatusSkip) && !res.Flaky() {
			continue
		}
		if err := tapBlock(bw, r, res); err != nil {
			return err
		}
	}
	tapTrailer(bw, r)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	return nil
}

// tapPoint writes the test point line of result n.
func tapPoint(w *bufio.Writer, r *engine.Report, n int, res engine.Result) {
	desc := tapEscape(res.Check.ID)
	switch {
	case res.Status == engine.StatusPass:
		fmt.Fprintf(w, "ok %d - %s\n", n, desc)
	case res.Status == engine.StatusSkip:
		fmt.Fprintf(w, "ok %d - %s # SKIP %s\n", n, desc, tapEscape(render.OneLine(render.SkipReason(res))))
	case res.Status == engine.StatusWarn:
		fmt.Fprintf(w, "not ok %d - %s # TODO SHOULD requirement violated (warning: the run is not strict)\n", n, desc)
	case res.Status == engine.StatusUnjudged && !r.Strict:
		fmt.Fprintf(w, "ok %d - %s # SKIP not judged: %s\n", n, desc, tapEscape(render.NotJudged(r, "the")))
	default:
		fmt.Fprintf(w, "not ok %d - %s\n", n, desc)
	}
}

// tapBlock writes the YAML diagnostics block of res, indented two spaces.
func tapBlock(w *bufio.Writer, r *engine.Report, res engine.Result) error {
	var block bytes.Buffer
	enc := yaml.NewEncoder(&block)
	enc.SetIndent(2)
	if err := enc.Encode(tapDiagnostics(r, res)); err != nil {
		return fmt.Errorf("tap: %s: %w", res.Check.ID, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("tap: %s: %w", res.Check.ID, err)
	}
	w.WriteString("  ---\n")
	for _, line := range strings.SplitAfter(block.String(), "\n") {
		if line == "" {
			continue
		}
		w.WriteString("  ")
		w.WriteString(line)
	}
	w.WriteString("  ...\n")
	return nil
}

// tapTrailer writes the verdict, the target and, in exec mode, the server
// and its output as comment lines.
func tapTrailer(w *bufio.Writer, r *engine.Report) {
	counts := r.Counts()
	fmt.Fprintf(w, "# verdict: %s (%d passed, %d failed, %d warnings, %d not judged, %d skipped, %d errors)\n", r.Verdict(),
		counts[engine.StatusPass], counts[engine.StatusFail], counts[engine.StatusWarn],
		counts[engine.StatusUnjudged], counts[engine.StatusSkip], counts[engine.StatusError])
	fmt.Fprintf(w, "# target: %s\n", tapComment(r.Target))
	if c := render.ClientWords(r); c != "" {
		fmt.Fprintf(w, "# client: %s\n", c)
	}
	s := r.Server
	if s == nil {
		return
	}
	fmt.Fprintf(w, "# server: %s (pid %d, %d restarts)\n", tapComment(s.Command), s.PID, s.Restarts)
	if s.Exit != "" {
		fmt.Fprintf(w, "# server exit: %s\n", tapComment(s.Exit))
	}
	for _, d := range s.Deaths {
		fmt.Fprintf(w, "# server %s\n", tapComment(d))
	}
	if s.Output != "" {
		out, cut := render.Truncate(s.Output, maxJUnitServerOutput)
		w.WriteString("# server output:\n")
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			fmt.Fprintf(w, "#   %s\n", tapComment(line))
		}
		if cut || s.OutputTruncated {
			w.WriteString("# [server output truncated]\n")
		}
	}
}

// tapDiag is the YAML diagnostics block of one test point. Field order is
// the order of the block.
type tapDiag struct {
	Message     string   `yaml:"message"`
	Severity    string   `yaml:"severity"`
	Level       string   `yaml:"level"`
	Requirement string   `yaml:"requirement"`
	DurationMS  int64    `yaml:"duration_ms"`
	Kind        string   `yaml:"kind,omitempty"`
	Diagnosis   string   `yaml:"diagnosis,omitempty"`
	Wanted      string   `yaml:"wanted,omitempty"`
	Found       string   `yaml:"found,omitempty"`
	Sent        *int64   `yaml:"sent,omitempty"`
	Received    *int64   `yaml:"received,omitempty"`
	Offset      *int64   `yaml:"offset,omitempty"`
	Ending      string   `yaml:"ending,omitempty"`
	Conn        string   `yaml:"conn,omitempty"`
	Detail      string   `yaml:"detail,omitempty"`
	WindowStart *int64   `yaml:"window_start,omitempty"`
	WantedHex   string   `yaml:"wanted_hex,omitempty"`
	FoundHex    string   `yaml:"found_hex,omitempty"`
	Cause       string   `yaml:"cause,omitempty"`
	ServerDied  string   `yaml:"server_died,omitempty"`
	Hint        string   `yaml:"hint,omitempty"`
	Runs        int      `yaml:"runs,omitempty"`
	Failures    int      `yaml:"failures,omitempty"`
	Replay      string   `yaml:"replay,omitempty"`
	Timeline    []string `yaml:"timeline,omitempty"`
}

func tapDiagnostics(r *engine.Report, res engine.Result) tapDiag {
	d := tapDiag{
		Message:     render.OneLine(render.ErrText(res.Err)),
		Severity:    string(res.Status),
		Level:       res.Check.Level.String(),
		Requirement: res.Check.Requirement,
		DurationMS:  res.Duration.Milliseconds(),
		ServerDied:  res.ServerDied,
		Hint:        render.Hint(res),
		Replay:      render.Replay(r, res),
		Timeline:    res.Timeline.Lines(),
	}
	if res.Err == nil {
		d.Message = "passed"
	}
	if res.Runs > 1 {
		d.Runs, d.Failures = res.Runs, res.Failures
	}
	if f := res.Failure(); f != nil {
		sent, recv := f.Sent, f.Received
		d.Kind, d.Diagnosis = string(f.Kind), string(f.Diagnosis)
		d.Wanted, d.Found = f.Expected, f.Actual
		d.Sent, d.Received = &sent, &recv
		d.Ending, d.Conn, d.Detail = string(f.Ending), f.Conn, f.Detail
		if f.Offset >= 0 {
			off, ws := f.Offset, f.WindowStart
			d.Offset, d.WindowStart = &off, &ws
			if len(f.ExpectedWindow) > 0 || len(f.ActualWindow) > 0 {
				d.WantedHex = hexOrNothing(f.ExpectedWindow)
				d.FoundHex = hexOrNothing(f.ActualWindow)
			}
		}
		if f.Err != nil {
			d.Cause = f.Err.Error()
		}
	}
	return d
}

func hexOrNothing(b []byte) string {
	if len(b) == 0 {
		return "(nothing)"
	}
	return hex.Dump(b)
}

// tapEscape escapes what TAP gives a meaning in a description: "\" and "#".
func tapEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(s, "#", `\#`)
}

// tapComment makes s safe on one "#" comment line: control characters
// (other than tab) become \xNN so that no line break or escape sequence of
// the server's output reaches the TAP stream.
func tapComment(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch {
		case r == '\t' || (r >= 0x20 && (r < 0x7f || r >= 0xa0) && r != utf8.RuneError):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(`\ufffd`)
		}
	}
	return b.String()
}
