package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
)

// TextOptions tune the text format.
type TextOptions struct {
	// Color adds ANSI colours to statuses and the verdict.
	Color bool
	// OmitChecks leaves out the per-check lines, for a report that follows
	// the lines a Progress printer already wrote.
	OmitChecks bool
	// OutputLines bounds the server output excerpt (default 40 lines).
	OutputLines int
	// Title is the report's first line; default TitleLine of the report.
	// OmitTitle leaves it out, for a report whose title a caller printed
	// before the progress lines.
	Title     string
	OmitTitle bool
}

// TitleLine is the text report's default first line: "echoconf check TARGET".
func TitleLine(r *engine.Report, color bool) string {
	return paint(color, ansiBold, "echoconf check") + " " + r.Target
}

// StatusWord is a status as the text formats print it: PASS, FAIL, WARN,
// UNJUDGED (could not be judged), SKIP or ERROR.
func StatusWord(s engine.Status) string { return strings.ToUpper(string(s)) }

// Text writes r for people, without colour: one line per selected check,
// then the diagnostics of every failure, warning and error, the server's
// deaths and output in exec mode, and a summary with the verdict.
func Text(w io.Writer, r *engine.Report) error {
	return TextWriter(TextOptions{})(w, r)
}

// TextWriter returns the text format with options.
func TextWriter(o TextOptions) Writer {
	if o.OutputLines == 0 {
		o.OutputLines = 40
	}
	return func(w io.Writer, r *engine.Report) error {
		bw := bufio.NewWriter(w)
		writeText(bw, r, o)
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write text report: %w", err)
		}
		return nil
	}
}

// ANSI colours.
const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
)

func paint(on bool, colour, s string) string {
	if !on {
		return s
	}
	return colour + s + ansiReset
}

func statusColour(s engine.Status) string {
	switch s {
	case engine.StatusPass:
		return ansiGreen
	case engine.StatusFail, engine.StatusError:
		return ansiRed
	case engine.StatusWarn:
		return ansiYellow
	case engine.StatusUnjudged:
		return ansiDim
	}
	return ansiBlue
}

// CheckLine is the one-line summary of a result that the text format and
// the progress printer share: "PASS  basic/small-message  (3ms)".
func CheckLine(res engine.Result, color bool) string {
	tag := paint(color, statusColour(res.Status), fmt.Sprintf("%-8s", StatusWord(res.Status)))
	line := fmt.Sprintf("%s %-36s %s", tag, res.Check.ID, paint(color, ansiDim, fmt.Sprintf("%8s", round(res.Duration))))
	if res.Check.Level.String() == "SHOULD" {
		line += " " + paint(color, ansiDim, "[SHOULD]")
	}
	switch {
	case res.Status == engine.StatusSkip && res.Err != nil:
		line += "  " + paint(color, ansiDim, Message(res))
	case res.Status != engine.StatusPass && res.Err != nil:
		line += "  " + firstLine(Message(res), 100)
	}
	if res.Runs > 1 {
		line += fmt.Sprintf("  (%d/%d runs failed)", res.Failures, res.Runs)
	}
	if res.ServerDied != "" {
		line += "  " + paint(color, ansiRed, "server died: "+res.ServerDied)
	}
	return line
}

// NewProgress returns an Options.Progress that prints CheckLine for every
// check as it ends, in completion order.
func NewProgress(w io.Writer, color bool) func(engine.ProgressEvent) {
	return func(ev engine.ProgressEvent) {
		if ev.Kind != engine.ProgressEnd || ev.Result == nil {
			return
		}
		_, _ = fmt.Fprintf(w, "%s\n", CheckLine(*ev.Result, color))
	}
}

func writeText(w *bufio.Writer, r *engine.Report, o TextOptions) {
	c := o.Color
	switch {
	case o.OmitTitle:
	case o.Title != "":
		fmt.Fprintf(w, "%s\n", paint(c, ansiBold, o.Title))
		fmt.Fprintf(w, "%s\n", TitleLine(r, c))
	default:
		fmt.Fprintf(w, "%s\n", TitleLine(r, c))
	}
	notSelected := 0
	for _, res := range r.Results {
		if res.NotSelected {
			notSelected++
		}
	}
	if !o.OmitChecks {
		for _, res := range r.Results {
			if !res.NotSelected {
				fmt.Fprintln(w, CheckLine(res, c))
			}
		}
	}
	var detailed bool
	for _, res := range r.Results {
		if res.Status != engine.StatusFail && res.Status != engine.StatusWarn &&
			res.Status != engine.StatusError && res.Status != engine.StatusUnjudged {
			continue
		}
		if !detailed {
			fmt.Fprintf(w, "\n%s\n", paint(c, ansiBold, "Diagnostics"))
			detailed = true
		}
		fmt.Fprintf(w, "\n%s %s (%s)\n", paint(c, statusColour(res.Status), "--- "+StatusWord(res.Status)),
			res.Check.ID, res.Check.Level)
		fmt.Fprintf(w, "    requirement: %s\n", res.Check.Requirement)
		if res.Status == engine.StatusUnjudged {
			w.WriteString("    not judged: the server did not serve this check's traffic correctly, so the requirement could not be judged\n")
		}
		if f := res.Failure(); f != nil {
			w.WriteString(indentText(f.Report(), "    "))
		} else if res.Err != nil {
			fmt.Fprintf(w, "    %s\n", res.Err)
		}
		if res.Runs > 1 {
			fmt.Fprintf(w, "    runs: %d, failed: %d\n", res.Runs, res.Failures)
		}
		if res.ServerDied != "" {
			fmt.Fprintf(w, "    the server died during this check: %s\n", res.ServerDied)
		}
		if cmd := ReplayCommand(r, res); cmd != "" {
			fmt.Fprintf(w, "    replay: %s\n", cmd)
		}
		if t := timelineText(res); t != "" {
			w.WriteString("    timeline:\n")
			w.WriteString(indentText(t, "      "))
		}
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "\n%s %s (pid %d", paint(c, ansiBold, "Server"), s.Command, s.PID)
		if s.Restarts > 0 {
			fmt.Fprintf(w, ", restarted %d times", s.Restarts)
		}
		w.WriteString(")\n")
		for _, d := range s.Deaths {
			fmt.Fprintf(w, "    %s\n", paint(c, ansiRed, d))
		}
		if s.Exit != "" {
			fmt.Fprintf(w, "    ended by itself: %s\n", s.Exit)
		}
		if out := strings.TrimRight(s.Output, "\n"); out != "" {
			lines := strings.Split(out, "\n")
			shown := lines
			if len(lines) > o.OutputLines {
				shown = lines[len(lines)-o.OutputLines:]
				fmt.Fprintf(w, "    output (last %d of %d lines):\n", o.OutputLines, len(lines))
			} else {
				w.WriteString("    output:\n")
			}
			for _, l := range shown {
				fmt.Fprintf(w, "    | %s\n", firstLine(printable(l), 200))
			}
			if s.OutputTruncated {
				w.WriteString("    (output beyond the capture limit was discarded)\n")
			}
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
	fmt.Fprintf(w, " in %s", round(r.Duration))
	if r.Strict {
		w.WriteString(" (strict)")
	}
	w.WriteString("\n")
	if r.Verdict() == engine.VerdictPass {
		fmt.Fprintf(w, "%s\n", paint(c, ansiGreen+ansiBold, "PASS: conformant"))
	} else {
		fmt.Fprintf(w, "%s\n", paint(c, ansiRed+ansiBold, "FAIL: not conformant"))
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

func firstLine(s string, limit int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

func indentText(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l == "" {
			continue
		}
		b.WriteString(prefix)
		b.WriteString(l)
	}
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteString("\n")
	}
	return b.String()
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
