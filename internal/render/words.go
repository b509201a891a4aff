package render

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// Message is the one-line message of a result: empty on pass, the
// failure's summary, the skip reason, or the error.
func Message(res engine.Result) string {
	if res.Err == nil {
		if res.Status != engine.StatusPass {
			return string(res.Status)
		}
		return ""
	}
	return res.Err.Error()
}

// ErrText is err's text, or "unknown error" for nil.
func ErrText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// SkipReason is why a skipped result was skipped.
func SkipReason(res engine.Result) string {
	var s *spec.Skipped
	if errors.As(res.Err, &s) {
		return s.Reason
	}
	if res.Err != nil {
		return res.Err.Error()
	}
	return "not selected to run"
}

// Replay returns the one-line command that re-runs res's check alone
// against the same target, with the run's payload seed, timeout scale and
// strictness: the same payloads and the same timing. In exec mode the
// target is the server's command line with {port}; against a HOST:PORT it
// is that address. For a client (echoconf check-client) it is
// "echoconf check-client --select ID --seed N --timeout-scale F [--strict]
// --shape S [--tty] --exec 'CMD'". It is empty for a result that passed or was skipped,
// and in a report that engine.Run did not make (no seed).
func Replay(r *engine.Report, res engine.Result) string {
	if res.Status == engine.StatusPass || res.Status == engine.StatusSkip || r.Seed == 0 {
		return ""
	}
	timing := []string{"--seed", strconv.FormatUint(r.Seed, 10)}
	if r.TimeoutScale != 0 {
		timing = append(timing, "--timeout-scale", strconv.FormatFloat(r.TimeoutScale, 'g', -1, 64))
	}
	if r.Strict {
		timing = append(timing, "--strict")
	}
	if r.Client != nil {
		return clientReplay(r, res, timing)
	}
	args := append([]string{"echoconf", "check", "--select", shellQuote(res.Check.ID)}, timing...)
	if r.Network == "udp" {
		args = append(args, "--udp")
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

// Timeline is res's exchange timeline, one event a line, or "".
func Timeline(res engine.Result) string {
	lines := res.Timeline.Lines()
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// ReplayAndTimeline is the replay command and the timeline of res, for
// the formats that carry a free-text diagnosis.
func ReplayAndTimeline(r *engine.Report, res engine.Result) string {
	var b strings.Builder
	if cmd := Replay(r, res); cmd != "" {
		b.WriteString("replay: ")
		b.WriteString(cmd)
		b.WriteString("\n")
	}
	if t := Timeline(res); t != "" {
		b.WriteString("timeline of the exchange:\n")
		b.WriteString(Indent(t, "  "))
	}
	return b.String()
}

// Indent prefixes every line of s and ends it with a line break.
func Indent(s, prefix string) string {
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

// OneLine collapses whitespace runs (newlines included) to single spaces.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Truncate returns at most n bytes of s, cut at a rune boundary, and
// whether it cut anything.
func Truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut], true
}

// Points prints points without trailing zeros ("12", "3.333").
func Points(p float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", p), "0"), ".")
}

// List joins items as prose: "a, b and c".
func List(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// Hint suggests the usual cause of a failed result, keyed on the failure's
// kind and diagnosis; "" when there is nothing useful to say.
func Hint(res engine.Result) string {
	f := res.Failure()
	if f == nil {
		return ""
	}
	if res.Check.Needs == spec.NeedsClient {
		return clientHint(res, f)
	}
	switch f.Kind {
	case spec.KindRefused:
		return "nothing accepted the connection. Does the server listen on the port given on its command line, on all addresses, and keep accepting after the first client?"
	case spec.KindReset:
		return "the server reset the connection: it probably closed the socket with unread data, or crashed. Keep reading until read() returns 0."
	case spec.KindEarlyEOF:
		return "the server closed the connection before echoing everything. Loop until read() returns 0 and write every byte you read (write() may write fewer bytes than asked: loop on short writes)."
	case spec.KindTimeout:
		if res.Check.Category() == spec.CategoryConcurrency {
			return "one client blocked the others. Serve each connection independently (a thread or process per client, or non-blocking I/O with poll/select)."
		}
		return "the echo did not arrive in time. Echo what you read right away instead of waiting for a full buffer, a newline or the end of input."
	case spec.KindWrongBytes:
		switch f.Diagnosis {
		case spec.DiagOtherClient:
			return "bytes from another client arrived on this connection: per-connection state (buffers, file descriptors) is probably shared between threads."
		case spec.DiagReordered, spec.DiagDuplicated, spec.DiagDropped:
			return "bytes were " + string(f.Diagnosis) + ". Write exactly the bytes returned by each read(), using its return value as the length, and resume short writes where they stopped."
		}
		return "the echo differs from what was sent. Treat the data as binary: no string functions (NUL bytes are data), no added or removed newlines, and use read()'s return value as the length."
	case spec.KindExtraBytes:
		return "the server sent bytes the client never sent (a greeting, a prompt, a terminating NUL, or stale buffer contents). Echo only the bytes read."
	case spec.KindNoEOF:
		return "everything was echoed, but the server never closed the connection after the client finished. When read() returns 0, close the socket."
	case spec.KindServerDied:
		return "the server process ended. Check for crashes (SIGPIPE on writing to a closed socket: ignore it or use MSG_NOSIGNAL), and never exit on one client's error."
	case spec.KindHygiene:
		if strings.Contains(res.Check.ID, "zombie") {
			return "finished child processes are not reaped. Call waitpid() (for example from a SIGCHLD handler, or with SA_NOCLDWAIT)."
		}
		return "the server leaks resources per connection. Close every accepted socket (in the parent too, after fork) and free per-client state."
	}
	return ""
}
