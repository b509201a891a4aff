package render

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// Subject is what a report judged: "client" for a client report
// (echoconf check-client), "server" otherwise.
func Subject(r *engine.Report) string {
	if r.Client != nil {
		return "client"
	}
	return "server"
}

// ClientTitleLine is the text report's first line for a client:
// "echoconf check-client COMMAND (interactive client, stdin a terminal)".
func ClientTitleLine(command, shape string, tty, color bool) string {
	what := shape + " client"
	if tty {
		what += ", stdin a terminal"
	}
	return Paint(color, Bold, "echoconf check-client") + " " + command + " " + Paint(color, Dim, "("+what+")")
}

// ReportTitleLine is the text report's first line for r: TitleLine for a
// server, ClientTitleLine for a client.
func ReportTitleLine(r *engine.Report, color bool) string {
	if c := r.Client; c != nil {
		return ClientTitleLine(r.Target, c.Shape, c.TTY, color)
	}
	return TitleLine(r.Target, color)
}

// clientReplay is the replay command of a client check: echoconf
// check-client with the check, the seed, the timing, the shape and the
// client's command line.
func clientReplay(r *engine.Report, res engine.Result, timing []string) string {
	args := append([]string{"echoconf", "check-client", "--select", shellQuote(res.Check.ID)}, timing...)
	args = append(args, "--shape", r.Client.Shape)
	if r.Client.TTY {
		args = append(args, "--tty")
	}
	args = append(args, "--exec", shellQuote(r.Target))
	return strings.Join(args, " ")
}

// clientHint suggests the usual cause of a client check's failure f.
func clientHint(res engine.Result, f *spec.Failure) string {
	switch f.Kind {
	case spec.KindRefused:
		return "the client never connected: does it use the host and port from its arguments, and does it exit with an error message when connect() fails?"
	case spec.KindWrongBytes:
		switch f.Diagnosis {
		case spec.DiagExtra:
			return "send exactly the message's bytes: strlen(msg), not strlen(msg)+1 (the NUL terminator) nor sizeof buf (its unused rest)."
		case spec.DiagTruncated:
			return "write() and send() may send fewer bytes than asked: loop until every byte of the message is sent."
		}
		return "send the message's bytes unchanged, and only them."
	case spec.KindWrongOutput:
		return "one read() may return only part of the echo: keep reading until as many bytes have come back as you sent, and print exactly the bytes each read() returned, using its return value as the length (fwrite(buf, 1, n, stdout); printf(\"%s\") needs buf[n] = '\\0' first)."
	case spec.KindNoEOF:
		return "once the whole echo is back, close the socket and exit: an echo server closes only after its client does, so a client that waits for the server to close first waits for ever."
	case spec.KindExitStatus:
		switch res.Check.ID {
		case "client/exit-status":
			return "after a complete exchange, close the socket and exit with status 0 (return 0 from main); do not wait for the server to close first."
		case "client/gives-up":
			return "a server may never answer: bound the wait for the echo (setsockopt SO_RCVTIMEO, or poll() with a timeout), then report the timeout on stderr and exit with a non-zero status."
		case "client/large-stream":
			return "a stream client must copy everything and exit with status 0 once the server has closed after its half-close (shutdown(fd, SHUT_WR) at end of input)."
		}
		return "when read() returns 0 before the whole echo is back, or -1 (ECONNRESET), the exchange failed: say why on stderr (perror) and exit with a non-zero status; ignore SIGPIPE (or send with MSG_NOSIGNAL) so that a closed connection is an error you handle, not a death."
	case spec.KindHygiene:
		return "read() returning 0 means the server closed: stop then. A loop that calls read() again on a closed connection spins at 100% CPU."
	case spec.KindDeadlock:
		return "a client that writes all its input before reading any echo deadlocks once both sides' socket buffers are full: read and write at the same time (poll() or select() on both, or a thread for each direction)."
	}
	return ""
}

// NotJudged says why an unjudged result of r could not be judged, after
// "not judged: "; whose is "the", "The" or "your".
func NotJudged(r *engine.Report, whose string) string {
	if r.Client != nil {
		return whose + " client did not carry out this check's exchange (it never connected, for one)"
	}
	return whose + " server did not serve this check's traffic correctly"
}

// clientWords describes a client in words: "an interactive client, its
// stdin a terminal".
func clientWords(c *engine.ClientInfo) string {
	s := "a " + c.Shape + " client"
	if c.Shape == "argument" || c.Shape == "interactive" {
		s = "an " + c.Shape + " client"
	}
	if c.TTY {
		s += ", its stdin a terminal"
	}
	return s
}

// ClientWords describes the client of a client report in words ("an
// interactive client, its stdin a terminal"); "" for a server report.
func ClientWords(r *engine.Report) string {
	if r.Client == nil {
		return ""
	}
	return clientWords(r.Client)
}

// FailureReport is f.Report() for res's failure f, in a client check's
// own words: Failure counts bytes from echoconf's side (Received is what
// the client sent), which "sent N bytes, received M bytes" would invert
// in a client report.
func FailureReport(res engine.Result, f *spec.Failure) string {
	if res.Check.Needs != spec.NeedsClient {
		return f.Report()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", f.Error())
	b.WriteString(FailureCounts(f))
	if f.Offset >= 0 && (len(f.ExpectedWindow) > 0 || len(f.ActualWindow) > 0) {
		fmt.Fprintf(&b, "expected from offset %d:\n%s", f.WindowStart, Indent(hexDump(f.ExpectedWindow), "  "))
		fmt.Fprintf(&b, "got from offset %d:\n%s", f.WindowStart, Indent(hexDump(f.ActualWindow), "  "))
	}
	if f.Err != nil {
		fmt.Fprintf(&b, "cause: %v\n", f.Err)
	}
	return b.String()
}

// FailureCounts is the line of a client check's failure f that counts the
// bytes each side sent and says how the exchange ended.
func FailureCounts(f *spec.Failure) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the client sent %d bytes; echoconf's server sent it %d", f.Received, f.Sent)
	switch f.Ending {
	case spec.EventNone:
	case spec.EventExit:
		b.WriteString("; then the client ended")
	case spec.EventEOF:
		b.WriteString("; then the client closed the connection")
	case spec.EventReset:
		b.WriteString("; then the client reset the connection")
	default:
		fmt.Fprintf(&b, ", ended by %s", f.Ending)
	}
	b.WriteString("\n")
	return b.String()
}

// hexDump is hex.Dump(b), or "(nothing)".
func hexDump(b []byte) string {
	if len(b) == 0 {
		return "(nothing)\n"
	}
	return hex.Dump(b)
}
