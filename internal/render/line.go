package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
)

// ANSI colours of the text report.
const (
	Reset  = "\x1b[0m"
	Red    = "\x1b[31m"
	Green  = "\x1b[32m"
	Yellow = "\x1b[33m"
	Blue   = "\x1b[34m"
	Bold   = "\x1b[1m"
	Dim    = "\x1b[2m"
)

// Paint wraps s in colour when on is set.
func Paint(on bool, colour, s string) string {
	if !on {
		return s
	}
	return colour + s + Reset
}

// StatusColour is the colour of a status in the text report.
func StatusColour(s engine.Status) string {
	switch s {
	case engine.StatusPass:
		return Green
	case engine.StatusFail, engine.StatusError:
		return Red
	case engine.StatusWarn:
		return Yellow
	case engine.StatusUnjudged:
		return Dim
	}
	return Blue
}

// StatusWord is a status as the text formats print it: PASS, FAIL, WARN,
// UNJUDGED, SKIP or ERROR.
func StatusWord(s engine.Status) string { return strings.ToUpper(string(s)) }

// TitleLine is the text report's first line: "echoconf check TARGET".
func TitleLine(target string, color bool) string {
	return Paint(color, Bold, "echoconf check") + " " + target
}

// CheckLine is the one-line summary of a result that the text report and
// echoconf check's progress share: "PASS  basic/small-message  (3ms)".
func CheckLine(res engine.Result, color bool) string {
	tag := Paint(color, StatusColour(res.Status), fmt.Sprintf("%-8s", StatusWord(res.Status)))
	line := fmt.Sprintf("%s %-36s %s", tag, res.Check.ID, Paint(color, Dim, fmt.Sprintf("%8s", Round(res.Duration))))
	if res.Check.Level.String() == "SHOULD" {
		line += " " + Paint(color, Dim, "[SHOULD]")
	}
	switch {
	case res.Status == engine.StatusSkip && res.Err != nil:
		line += "  " + Paint(color, Dim, Message(res))
	case res.Status != engine.StatusPass && res.Err != nil:
		line += "  " + FirstLine(Message(res), 100)
	}
	if res.Runs > 1 {
		line += fmt.Sprintf("  (%d/%d runs failed)", res.Failures, res.Runs)
	}
	if res.ServerDied != "" {
		line += "  " + Paint(color, Red, "server died: "+res.ServerDied)
	}
	return line
}

// Round rounds d for the text report: 10ms steps from a second, 1ms from
// a millisecond, else 1µs.
func Round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// FirstLine is s up to its first line break, cut to limit bytes with "…".
func FirstLine(s string, limit int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}
