package adversary_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"
)

func judgeSendsExact(ex exchange, o outcome) string {
	if !o.connected {
		return "the client never connected"
	}
	got := o.rec.Received
	if bytes.Equal(got, ex.sent) {
		return ""
	}
	i := firstDiff(got, ex.sent)
	return fmt.Sprintf("sent %d bytes, want %d; they differ from byte %d: got %q, want %q",
		o.rec.ReceivedLen, len(ex.sent), i, window(got, i), window(ex.sent, i))
}

// window returns up to 16 bytes of b from i.
func window(b []byte, i int) []byte { return b[min(i, len(b)):min(i+16, len(b))] }

// judgePrints: the expected pieces appear on stdout, exactly and in order.
// A stream client prints the echo and nothing else. Other clients may
// decorate it ("Received: "), but the decoration must be text and must
// not hold bytes of the messages (an echo printed twice, or from a stale
// buffer), and an argument client's echo must end its line.
func judgePrints(ex exchange, o outcome) string {
	out := o.stdout
	if ex.shape == shapeStream {
		if bytes.Equal(out, ex.pieces[0]) {
			return ""
		}
		i := firstDiff(out, ex.pieces[0])
		return fmt.Sprintf("stdout differs from the echo from byte %d (%d bytes, want %d): got %q, want %q",
			i, len(out), len(ex.pieces[0]), window(out, i), window(ex.pieces[0], i))
	}
	var decoration [][]byte
	pos := 0
	for k, p := range ex.pieces {
		j := bytes.Index(out[pos:], p)
		if j < 0 {
			return fmt.Sprintf("the echo of message %d (%q) is not on stdout, whole or in order: stdout is %q", k+1, p, clip(out))
		}
		decoration = append(decoration, out[pos:pos+j])
		pos += j + len(p)
		if ex.shape == shapeArgument {
			rest := out[pos:]
			if len(rest) > 0 && !bytes.HasPrefix(rest, []byte("\n")) && !bytes.HasPrefix(rest, []byte("\r\n")) {
				return fmt.Sprintf("bytes after the echo on its line: %q", clip(rest))
			}
		}
	}
	decoration = append(decoration, out[pos:])
	for _, d := range decoration {
		for _, c := range d {
			if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' {
				return fmt.Sprintf("non-text bytes around the echo: %q", clip(d))
			}
		}
		if f := messageFragment(d, ex.pieces); f != nil {
			return fmt.Sprintf("bytes of the messages outside their echo (a stale buffer or a repeated echo): %q in %q", f, clip(d))
		}
	}
	return ""
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

func clip(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

func judgeExitZero(_ exchange, o outcome) string {
	switch {
	case !o.exited:
		return fmt.Sprintf("still running after %v: killed", o.elapsed.Round(time.Millisecond))
	case o.code != 0:
		return fmt.Sprintf("exit status %d after a good exchange; stderr: %q", o.code, clip(o.stderr))
	}
	return ""
}

func judgeCloses(_ exchange, o outcome) string {
	r := o.rec
	switch {
	case !o.connected:
		return "the client never connected"
	case !r.ClientClosed():
		return "did not close its connection"
	case r.ClientEndAt > r.LastWriteAt+closeGrace:
		return fmt.Sprintf("closed its connection %v after the last echo byte (at most %v)", (r.ClientEndAt - r.LastWriteAt).Round(time.Millisecond), closeGrace)
	}
	return ""
}

// judgeErrorExit: the client exits on its own, with a non-zero status
// and a message on stderr.
func judgeErrorExit(_ exchange, o outcome) string {
	switch {
	case !o.exited:
		return fmt.Sprintf("still running after %v: killed", o.elapsed.Round(time.Millisecond))
	case o.code == 0:
		return fmt.Sprintf("exit status 0; stderr: %q", clip(o.stderr))
	case o.code < 0:
		return "killed by a signal"
	case len(bytes.TrimSpace(o.stderr)) == 0:
		return fmt.Sprintf("exit status %d but nothing on stderr", o.code)
	}
	return ""
}

func judgeNoSpin(_ exchange, o outcome) string {
	if o.runnable > spinLimit {
		return fmt.Sprintf("after the server's FIN it ran or waited to run %.0f%% of the time (used %.0f%% of a CPU)", 100*o.runnable, 100*o.cpu)
	}
	return ""
}

func judgeLargeStream(ex exchange, o outcome) string {
	if errors.Is(o.rec.WriteErr, os.ErrDeadlineExceeded) {
		return fmt.Sprintf("deadlock: the client stopped reading the echo for %v while it was still writing (%d of %d bytes echoed; stdout has %d)",
			largeStall, o.rec.Sent, len(ex.sent), len(o.stdout))
	}
	if !o.exited {
		return fmt.Sprintf("no end after %v: the server received %d of %d bytes and the client printed %d",
			o.elapsed.Round(time.Millisecond), o.rec.ReceivedLen, len(ex.sent), len(o.stdout))
	}
	if o.code != 0 {
		return fmt.Sprintf("exit status %d; stderr: %q", o.code, clip(o.stderr))
	}
	return judgePrints(ex, o)
}
