package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
)

// writeText writes r for people: the title line, one line per selected
// check, then the diagnostics of every failure, warning, unjudged check and
// error, the server's deaths and output in exec mode, and a summary with
// the verdict.
func writeText(w io.Writer, r *engine.Report, o Options) error {
	if o.OutputLines == 0 {
		o.OutputLines = 40
	}
	bw := bufio.NewWriter(w)
	textTitle(bw, r, o)
	if !o.OmitChecks {
		for _, res := range r.Results {
			if !res.NotSelected {
				fmt.Fprintln(bw, render.CheckLine(res, o.Color))
			}
		}
	}
	textDiagnostics(bw, r, o.Color)
	if r.Server != nil {
		textServer(bw, r.Server, o)
	}
	textSummary(bw, r, o.Color)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

// textTitle writes o.Title, if any, and the title line, unless o.OmitTitle.
func textTitle(w *bufio.Writer, r *engine.Report, o Options) {
	if o.OmitTitle {
		return
	}
	if o.Title != "" {
		fmt.Fprintf(w, "%s\n", render.Paint(o.Color, render.Bold, o.Title))
	}
	fmt.Fprintf(w, "%s\n", render.ReportTitleLine(r, o.Color))
}

// textDiagnostics writes the full diagnosis of every result that failed,
// warned, could not be judged or could not run, under "Diagnostics".
func textDiagnostics(w *bufio.Writer, r *engine.Report, c bool) {
	var detailed bool
	for _, res := range r.Results {
		if res.Status != engine.StatusFail && res.Status != engine.StatusWarn &&
			res.Status != engine.StatusError && res.Status != engine.StatusUnjudged {
			continue
		}
		if !detailed {
			fmt.Fprintf(w, "\n%s\n", render.Paint(c, render.Bold, "Diagnostics"))
			detailed = true
		}
		textDiagnosis(w, r, res, c)
	}
}

// textDiagnosis writes one result's diagnosis: requirement, failure report
// or error, runs, the server's death, replay command and timeline.
func textDiagnosis(w *bufio.Writer, r *engine.Report, res engine.Result, c bool) {
	fmt.Fprintf(w, "\n%s %s (%s)\n", render.Paint(c, render.StatusColour(res.Status), "--- "+render.StatusWord(res.Status)),
		res.Check.ID, res.Check.Level)
	fmt.Fprintf(w, "    requirement: %s\n", res.Check.Requirement)
	if res.Status == engine.StatusUnjudged {
		fmt.Fprintf(w, "    not judged: %s, so the requirement could not be judged\n", render.NotJudged(r, "the"))
	}
	if f := res.Failure(); f != nil {
		w.WriteString(render.Indent(render.FailureReport(res, f), "    "))
	} else if res.Err != nil {
		fmt.Fprintf(w, "    %s\n", res.Err)
	}
	if res.Runs > 1 {
		fmt.Fprintf(w, "    runs: %d, failed: %d\n", res.Runs, res.Failures)
	}
	if res.ServerDied != "" {
		fmt.Fprintf(w, "    the server died during this check: %s\n", res.ServerDied)
	}
	if cmd := render.Replay(r, res); cmd != "" {
		fmt.Fprintf(w, "    replay: %s\n", cmd)
	}
	if t := render.Timeline(res); t != "" {
		w.WriteString("    timeline:\n")
		w.WriteString(render.Indent(t, "      "))
	}
}

// textServer describes the exec'd server: command, pid, restarts, deaths,
// how it ended, and the last o.OutputLines lines of its output.
func textServer(w *bufio.Writer, s *engine.ServerInfo, o Options) {
	c := o.Color
	fmt.Fprintf(w, "\n%s %s (pid %d", render.Paint(c, render.Bold, "Server"), s.Command, s.PID)
	if s.Restarts > 0 {
		fmt.Fprintf(w, ", restarted %d times", s.Restarts)
	}
	w.WriteString(")\n")
	for _, d := range s.Deaths {
		fmt.Fprintf(w, "    %s\n", render.Paint(c, render.Red, d))
	}
	if s.Exit != "" {
		fmt.Fprintf(w, "    ended by itself: %s\n", s.Exit)
	}
	out := strings.TrimRight(s.Output, "\n")
	if out == "" {
		return
	}
	lines := strings.Split(out, "\n")
	shown := lines
	if len(lines) > o.OutputLines {
		shown = lines[len(lines)-o.OutputLines:]
		fmt.Fprintf(w, "    output (last %d of %d lines):\n", o.OutputLines, len(lines))
	} else {
		w.WriteString("    output:\n")
	}
	for _, l := range shown {
		fmt.Fprintf(w, "    | %s\n", render.FirstLine(printable(l), 200))
	}
	if s.OutputTruncated {
		w.WriteString("    (output beyond the capture limit was discarded)\n")
	}
}

// textSummary writes the counts, the duration and the verdict.
func textSummary(w *bufio.Writer, r *engine.Report, c bool) {
	notSelected := 0
	for _, res := range r.Results {
		if res.NotSelected {
			notSelected++
		}
	}
	n := r.Counts()
	fmt.Fprintf(w, "\n%d passed, %d failed, %d warned", n[engine.StatusPass], n[engine.StatusFail], n[engine.StatusWarn])
	if k := n[engine.StatusUnjudged]; k > 0 {
		fmt.Fprintf(w, ", %d not judged", k)
	}
	fmt.Fprintf(w, ", %d skipped, %d errors", n[engine.StatusSkip]-notSelected, n[engine.StatusError])
	if notSelected > 0 {
		fmt.Fprintf(w, " (%d not selected)", notSelected)
	}
	fmt.Fprintf(w, " in %s", render.Round(r.Duration))
	if r.Strict {
		w.WriteString(" (strict)")
	}
	w.WriteString("\n")
	if r.Verdict() == engine.VerdictPass {
		fmt.Fprintf(w, "%s\n", render.Paint(c, render.Green+render.Bold, "PASS: conformant"))
	} else {
		fmt.Fprintf(w, "%s\n", render.Paint(c, render.Red+render.Bold, "FAIL: not conformant"))
	}
}

// printable replaces control characters in server output (escape
// sequences could repaint the user's terminal) with '?'.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t') || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
