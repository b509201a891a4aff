package report

import (
	"strconv"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
)

// ReplayCommand returns the one-line command that re-runs res's check alone
// against the same target, with the run's payload seed, timeout scale and
// strictness: the same payloads and the same timing. In exec mode the
// target is the server's command line with {port}, so a student can run it
// in the directory of their own ./server; against a HOST:PORT it is that
// address. It is empty for a result that passed or was skipped, and in a
// report that engine.Run did not make (no seed: a build failure).
func ReplayCommand(r *engine.Report, res engine.Result) string {
	if res.Status == engine.StatusPass || res.Status == engine.StatusSkip || r.Seed == 0 {
		return ""
	}
	args := []string{"echoconf", "check", "--select", shellQuote(res.Check.ID), "--seed", strconv.FormatUint(r.Seed, 10)}
	if r.TimeoutScale != 0 {
		args = append(args, "--timeout-scale", strconv.FormatFloat(r.TimeoutScale, 'g', -1, 64))
	}
	if r.Strict {
		args = append(args, "--strict")
	}
	if r.Exec {
		args = append(args, "--exec", shellQuote(r.Target))
	} else {
		args = append(args, shellQuote(r.Target))
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,[]") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// timelineText is res's exchange timeline, one event a line, or "".
func timelineText(res engine.Result) string {
	lines := res.Timeline.Lines()
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// replayText is the replay command and the timeline of res, for the
// formats that carry a free-text diagnosis.
func replayText(r *engine.Report, res engine.Result) string {
	var b strings.Builder
	if cmd := ReplayCommand(r, res); cmd != "" {
		b.WriteString("replay: ")
		b.WriteString(cmd)
		b.WriteString("\n")
	}
	if t := timelineText(res); t != "" {
		b.WriteString("timeline of the exchange:\n")
		b.WriteString(indentText(t, "  "))
	}
	return b.String()
}
