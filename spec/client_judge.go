package spec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"
)

// The judges of the client catalogue: each looks at one run of the client
// and returns nil when the requirement held, a *Failure otherwise.

// notConnected is the failure of a client that never connected.
func notConnected(r *clientRun) *Failure {
	return &Failure{Kind: KindRefused, Ending: EventExit, Offset: -1,
		Expected: "a connection to echoconf's server", Actual: "no connection; the client " + ending(r.out),
		Detail: stderrDetail(r.out)}
}

// ending says how the client ended, in words.
func ending(o *ClientOutput) string {
	if !o.Exited {
		return fmt.Sprintf("was still running after %v and was killed (%s)", o.Duration.Round(time.Millisecond), o.Killed)
	}
	return "ended with " + o.Exit
}

// stderrDetail quotes the start of the client's stderr, or says it was empty.
func stderrDetail(o *ClientOutput) string {
	if len(bytes.TrimSpace(o.Stderr)) == 0 {
		return "its stderr was empty"
	}
	return fmt.Sprintf("its stderr: %q", clip(o.Stderr, 200))
}

// clip returns at most n bytes of b.
func clip(b []byte, n int) []byte { return b[:min(len(b), n)] }

// judgeSendsExact: the server received exactly the message.
func judgeSendsExact(ex exchange, r *clientRun) *Failure {
	if !r.connected {
		return notConnected(r)
	}
	got := r.rec.Received
	if bytes.Equal(got, ex.sent) {
		return nil
	}
	i := firstDiff(got, ex.sent)
	start := max(0, i-window)
	f := &Failure{Kind: KindWrongBytes, Offset: int64(i), WindowStart: int64(start),
		ExpectedWindow: windowFrom(ex.sent, start), ActualWindow: windowFrom(got, start),
		Sent: r.rec.Sent, Received: r.rec.ReceivedLen, Ending: EventEOF,
		Expected: fmt.Sprintf("the %d bytes of the message", len(ex.sent)),
		Actual:   fmt.Sprintf("%d bytes that differ from byte %d", r.rec.ReceivedLen, i)}
	switch {
	case bytes.HasPrefix(got, ex.sent) && len(bytes.Trim(got[len(ex.sent):], "\x00")) == 0:
		f.Diagnosis = DiagExtra
		n := len(got) - len(ex.sent)
		f.Detail = fmt.Sprintf("the client sent %d NUL %s after the message: the string's terminator (strlen+1) or the rest of its buffer (sizeof buf); send exactly strlen bytes",
			n, map[bool]string{true: "byte", false: "bytes"}[n == 1])
	case bytes.HasPrefix(got, ex.sent):
		f.Diagnosis = DiagExtra
		f.Detail = "the client sent bytes after the message"
	case bytes.HasPrefix(ex.sent, got):
		f.Diagnosis = DiagTruncated
		f.Detail = "the client sent only the start of the message: loop until write() has sent every byte"
	default:
		f.Diagnosis = DiagAltered
	}
	return f
}

// windowFrom returns up to 2*window bytes of b from i.
func windowFrom(b []byte, i int) []byte {
	return bytes.Clone(b[min(i, len(b)):min(i+2*window, len(b))])
}

// judgePrints: the expected pieces appear on stdout, exactly and in order.
// A stream client prints the echo and nothing else. Other clients may
// decorate it ("Received: "), but the decoration must be text and must not
// hold bytes of the messages (an echo printed twice, or from a stale
// buffer), and an argument client's echo must end its line.
func judgePrints(ex exchange, r *clientRun) *Failure {
	out := r.out.Stdout
	fail := func(expected, actual, detail string) *Failure {
		return &Failure{Kind: KindWrongOutput, Offset: -1, Received: r.rec.ReceivedLen, Sent: r.rec.Sent,
			Expected: expected, Actual: actual, Detail: detail}
	}
	if ex.shape == ShapeStream {
		if bytes.Equal(out, ex.pieces[0]) {
			return nil
		}
		i := firstDiff(out, ex.pieces[0])
		start := max(0, i-window)
		f := fail(fmt.Sprintf("stdout to be the %d bytes of the echo, exactly", len(ex.pieces[0])),
			fmt.Sprintf("%d bytes on stdout, differing from byte %d", len(out), i),
			"a stream client copies the echo to stdout and prints nothing else; the client "+ending(r.out))
		f.Offset, f.WindowStart = int64(i), int64(start)
		f.ExpectedWindow, f.ActualWindow = windowFrom(ex.pieces[0], start), windowFrom(out, start)
		return f
	}
	var decoration [][]byte
	pos := 0
	for k, p := range ex.pieces {
		j := bytes.Index(out[pos:], p)
		if j < 0 {
			return fail(fmt.Sprintf("the echo of message %d of %d (%q) on stdout, whole and in order", k+1, len(ex.pieces), p),
				fmt.Sprintf("stdout %q", clip(out, 300)), "the client must print every byte of each echo; "+ending(r.out))
		}
		decoration = append(decoration, out[pos:pos+j])
		pos += j + len(p)
		if ex.shape == ShapeArgument {
			rest := out[pos:]
			if len(rest) > 0 && !bytes.HasPrefix(rest, []byte("\n")) && !bytes.HasPrefix(rest, []byte("\r\n")) {
				return fail("the echo, then the end of its line", fmt.Sprintf("bytes after the echo on its line: %q", clip(rest, 100)),
					"print only the bytes received (a buffer printed with %s must be terminated after them)")
			}
		}
	}
	decoration = append(decoration, out[pos:])
	for _, d := range decoration {
		for _, c := range d {
			if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' {
				return fail("text around the echo", fmt.Sprintf("non-text bytes around it: %q", clip(d, 100)),
					"print only the bytes received (a buffer printed with %s must be terminated after them)")
			}
		}
		if frag := messageFragment(d, ex.pieces); frag != nil {
			return fail("each echo printed once", fmt.Sprintf("bytes of the messages outside their echo: %q in %q", frag, clip(d, 100)),
				"a stale buffer or a repeated echo: print exactly the bytes each read returned")
		}
	}
	return nil
}

// messageFragment returns a 6-byte piece of d that is also in one of the
// messages (newlines aside), or nil.
func messageFragment(d []byte, msgs [][]byte) []byte {
	const n = 6
	for i := 0; i+n <= len(d); i++ {
		f := d[i : i+n]
		if bytes.ContainsAny(f, "\r\n") {
			continue
		}
		for _, m := range msgs {
			if bytes.Contains(m, f) {
				return f
			}
		}
	}
	return nil
}

// judgeExitZero: the client exited on its own with status 0.
func judgeExitZero(_ exchange, r *clientRun) *Failure {
	o := r.out
	if o.Exited && o.ExitCode == 0 {
		return nil
	}
	return &Failure{Kind: KindExitStatus, Ending: EventExit, Offset: -1, Received: r.rec.ReceivedLen, Sent: r.rec.Sent,
		Expected: "exit status 0 after a complete exchange", Actual: "the client " + ending(o), Detail: stderrDetail(o)}
}

// judgeCloses: the client closed its connection within clientCloseGrace of
// the last echo byte.
func judgeCloses(env *Env, _ exchange, r *clientRun) *Failure {
	{
		if !r.connected {
			return notConnected(r)
		}
		rec, grace := r.rec, env.Scaled(clientCloseGrace)
		f := &Failure{Kind: KindNoEOF, Offset: -1, Received: rec.ReceivedLen, Sent: rec.Sent,
			Expected: fmt.Sprintf("the client to close its connection within %v of the last echo byte", grace)}
		switch {
		case !rec.ClientClosed():
			f.Actual = "it never closed it; the client " + ending(r.out)
			f.Detail = "once every byte of the echo is back, close the socket: an echo server closes only after its client does"
		case rec.ClientEndAt > rec.LastWriteAt+grace:
			f.Actual = fmt.Sprintf("it closed it %v after the last echo byte", (rec.ClientEndAt - rec.LastWriteAt).Round(time.Millisecond))
		default:
			return nil
		}
		return f
	}
}

// judgeErrorExit: the client exits on its own, with a non-zero status and
// a message on stderr.
func judgeErrorExit(what string) func(exchange, *clientRun) *Failure {
	return func(_ exchange, r *clientRun) *Failure {
		o := r.out
		f := &Failure{Kind: KindExitStatus, Ending: EventExit, Offset: -1, Received: r.rec.ReceivedLen, Sent: r.rec.Sent,
			Expected: "a non-zero exit status and a message on stderr, " + what}
		switch {
		case !o.Exited:
			f.Actual = "the client " + ending(o)
			f.Detail = "the client must notice that the exchange cannot complete (read() returns 0 or -1) and stop"
		case o.ExitCode == 0:
			f.Actual = "exit status 0"
			f.Detail = "the exchange failed, so the exit status must say so; " + stderrDetail(o)
		case o.ExitCode < 0:
			f.Actual = "the client " + ending(o)
			f.Detail = "a signal ended it (SIGPIPE on writing to a closed socket: ignore it or use MSG_NOSIGNAL, and handle EPIPE)"
		case len(bytes.TrimSpace(o.Stderr)) == 0:
			f.Actual = fmt.Sprintf("exit status %d but nothing on stderr", o.ExitCode)
			f.Detail = "say what went wrong on stderr (perror)"
		default:
			return nil
		}
		return f
	}
}

// judgeNoSpin: after the server's FIN the client was runnable at most
// spinShare of the time.
func judgeNoSpin(_ exchange, r *clientRun) *Failure {
	switch {
	case !r.connected:
		return notConnected(r)
	case r.runnable < 0:
		return nil
	case r.runnable > spinShare:
		return &Failure{Kind: KindHygiene, Offset: -1, Received: r.rec.ReceivedLen, Sent: r.rec.Sent,
			Expected: fmt.Sprintf("the client to stop, or wait without using the CPU, once the server closed (at most %.0f%% of the time runnable)", 100*spinShare),
			Actual:   fmt.Sprintf("it ran or waited to run %.0f%% of the time (used %.0f%% of a CPU)", 100*r.runnable, 100*r.cpu),
			Detail:   "read() returning 0 means the server closed: stop reading, do not loop on it"}
	}
	return nil
}

// judgeLargeStream: 8 MiB go through a stream client without deadlock,
// and it prints them all and exits 0.
func judgeLargeStream(env *Env, ex exchange, r *clientRun) *Failure {
	{
		if !r.connected {
			return notConnected(r)
		}
		o, rec := r.out, r.rec
		if errors.Is(rec.WriteErr, os.ErrDeadlineExceeded) {
			return &Failure{Kind: KindDeadlock, Offset: -1, Received: rec.ReceivedLen, Sent: rec.Sent,
				Expected: fmt.Sprintf("the client to read the echo while it writes its %d bytes", len(ex.sent)),
				Actual: fmt.Sprintf("it stopped reading for %v while it was still writing (%d of %d bytes echoed; stdout has %d)",
					env.Scaled(largeStall), rec.Sent, len(ex.sent), len(o.Stdout)),
				Detail: "a client that writes everything before it reads deadlocks once both sockets' buffers are full: read and write at the same time (poll, select, or two threads)"}
		}
		if !o.Exited || o.ExitCode != 0 {
			return &Failure{Kind: KindExitStatus, Ending: EventExit, Offset: -1, Received: rec.ReceivedLen, Sent: rec.Sent,
				Expected: fmt.Sprintf("the %d bytes through, then exit status 0", len(ex.sent)),
				Actual: fmt.Sprintf("the client %s; the server received %d bytes and the client printed %d",
					ending(o), rec.ReceivedLen, len(o.Stdout)),
				Detail: stderrDetail(o)}
		}
		return judgePrints(ex, r)
	}
}
