package spec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// window is how many bytes each hex window shows on either side of the
// first difference.
const window = 32

// phase is the part of an exchange in which something went wrong.
type phase int

const (
	phaseEcho  phase = iota // waiting for the echo
	phaseEOF                // the echo is complete; waiting for the server's FIN
	phaseDrain              // the echo is complete; listening for extra bytes
)

// obs is what a connection observed when an exchange ended.
type obs struct {
	phase  phase
	from   int64 // stream offset where the current message starts
	target int64 // stream offset the echo had to reach
	res    readResult
	werr   error // the writer's error, if any
}

// connLabel names the connection and round for Failure.Conn.
func (c *echoConn) connLabel() string {
	switch {
	case c.round > 0 && c.label != "":
		return fmt.Sprintf("%s, round %d", c.label, c.round)
	case c.round > 0:
		return fmt.Sprintf("round %d", c.round)
	}
	return c.label
}

// judge turns an observation into a Failure, or nil when the exchange went
// as the protocol requires.
func (c *echoConn) judge(ctx context.Context, o obs) *Failure {
	r := o.res
	if o.phase == phaseEcho && r.diff < 0 && r.err == nil && o.werr == nil && c.received >= o.target {
		return nil
	}
	f := &Failure{Sent: c.sent, Received: c.received, Offset: -1, Conn: c.connLabel(), Err: r.err}
	if f.Err == nil {
		f.Err = o.werr
	}
	if r.diff >= 0 {
		// The bytes explain the failure; what ended the read afterwards
		// (EOF, a write timeout once the reader stopped) does not.
		f.Err = nil
		c.describeDiff(f, o)
		return f
	}
	if err := ctx.Err(); err != nil {
		f.Kind, f.Err = KindTimeout, err
		f.Expected = fmt.Sprintf("%d bytes echoed", o.target)
		f.Actual = fmt.Sprintf("%d bytes when the check's time limit ran out", c.received)
		f.Detail = "the check ran out of time (its watchdog or the run's deadline)"
		if got := c.received - o.from; got > 0 && !c.started.IsZero() && o.phase == phaseEcho {
			f.Detail = slowDetail(got, o.target-o.from, time.Since(c.started))
		}
		return f
	}
	ending := exchangeEnding(r.ending, r.err, o.werr)
	f.Ending = ending
	switch o.phase {
	case phaseEcho:
		c.describeShort(f, o, ending)
		if f.Kind == KindTimeout && ending == EventTimeout {
			f.Held = c.held(ctx)
		}
	default:
		c.describeNoEOF(f, o, ending)
	}
	if ev := endingOf(f.Err); ev == EventEOF || ev == EventTimeout {
		f.Err = nil // Ending and Actual already say it; a cause would add nothing
	}
	return f
}

// exchangeEnding is what ended an exchange whose reader ended with
// readEnding (and readErr) while its writer, at the same time, got
// writeErr.
func exchangeEnding(readEnding Event, readErr, writeErr error) Event {
	switch we := endingOf(writeErr); {
	case errors.Is(writeErr, syscall.ECONNRESET):
		// The kernel reports a reset to the first system call that meets
		// it, and a read after that returns 0: the reader's EOF came after
		// the reset the writer took. (EPIPE would mean a FIN came first.)
		return EventReset
	case we == EventReset && readEnding != EventEOF:
		return EventReset
	case readEnding == EventNone && readErr == nil && we == EventTimeout:
		return EventTimeout
	}
	return readEnding
}

// then describes an ending for Actual sentences.
func (c *echoConn) then(e Event) string {
	switch e {
	case EventEOF:
		return "then EOF"
	case EventReset:
		return "then a reset (RST)"
	case EventTimeout:
		return fmt.Sprintf("then nothing for %s", c.idle())
	}
	return "then the connection failed"
}

// describeShort explains an echo that stopped before the target.
func (c *echoConn) describeShort(f *Failure, o obs, ending Event) {
	got := c.received - o.from
	total := o.target - o.from
	f.Expected = fmt.Sprintf("%d bytes echoed", o.target)
	f.Actual = fmt.Sprintf("%d bytes, %s", c.received, c.then(ending))
	if got > 0 {
		f.Diagnosis = DiagTruncated
	}
	nul := c.stoppedAtNUL(o.from)
	round := ""
	if c.round > 1 {
		round = fmt.Sprintf(" (message %d on this connection)", c.round)
	}
	switch ending {
	case EventEOF:
		f.Kind, f.Diagnosis = KindEarlyEOF, DiagTruncated
		switch {
		case nul:
			f.Detail = nulDetail(c.received)
		case c.halfClosed:
			f.Detail = fmt.Sprintf("after the client's FIN the server closed having echoed %d of %d "+
				"bytes%s: when read() returns 0 it must first write back everything it has read, then close",
				got, total, round)
		case got == 0 && c.round > 1:
			f.Detail = fmt.Sprintf("the server closed the connection after "+
				"%d messages: it must keep echoing until the client closes", c.round-1)
		case got == 0 && o.from == 0:
			f.Detail = "the server closed the connection without echoing anything"
		default:
			f.Detail = fmt.Sprintf("the server closed the connection after echoing %d of %d bytes%s", got, total, round)
		}
	case EventReset:
		f.Kind = KindReset
		if got < total {
			f.Diagnosis = DiagTruncated
		}
		f.Detail = fmt.Sprintf("the server reset the connection after echoing %d of %d "+
			"bytes%s: it closed the socket with unread data, used SO_LINGER 0, or crashed", got, total, round)
	case EventTimeout:
		f.Kind = KindTimeout
		switch {
		case nul:
			f.Diagnosis = DiagTruncated
			f.Detail = nulDetail(c.received)
		case got == 0 && o.werr != nil && endingOf(o.werr) == EventTimeout:
			f.Detail = fmt.Sprintf("nothing came back and the client could "+
				"not send for %s: the server is not reading this connection", c.idle())
		case got == 0 && o.from == 0:
			f.Detail = fmt.Sprintf("nothing came back for %s: the server is not echoing "+
				"(does it wait for EOF, a newline or a full buffer before echoing?)", c.idle())
		case got == 0:
			f.Detail = fmt.Sprintf("earlier data was echoed, but nothing of this message%s came back for %s",
				round, c.idle())
		default:
			f.Detail = fmt.Sprintf("the server echoed %d of %d bytes%s, then nothing for %s: it must write "+
				"back everything each read() returns (handling short writes) and keep reading until EOF",
				got, total, round, c.idle())
		}
	default:
		f.Kind = KindReset
		f.Detail = fmt.Sprintf("the connection failed after %d of %d bytes came back", got, total)
	}
}

// stoppedAtNUL reports whether the echo stopped exactly at the first NUL
// byte of the current message.
func (c *echoConn) stoppedAtNUL(from int64) bool {
	if c.received >= c.want.Len() {
		return false
	}
	b := c.want.bytesAt(from, c.received+1)
	return len(b) > 0 && b[len(b)-1] == 0 && bytes.IndexByte(b[:len(b)-1], 0) < 0
}

func nulDetail(off int64) string {
	return fmt.Sprintf("the echo stopped at the first NUL byte (offset %d): the server probably "+
		"treats data as a C string (strlen, %%s, strcpy, fputs); use the byte count read() returns", off)
}

// describeNoEOF explains a connection whose echo was complete but which did
// not end with the server's FIN.
func (c *echoConn) describeNoEOF(f *Failure, o obs, ending Event) {
	f.Expected = fmt.Sprintf("%d bytes echoed, then EOF", o.target)
	f.Actual = fmt.Sprintf("%d bytes, %s", c.received, c.then(ending))
	switch ending {
	case EventReset:
		f.Kind = KindReset
		f.Detail = "all data was echoed, but the server answered the client's FIN with a reset instead of " +
			"a FIN: after read() returns 0, close the socket normally (no SO_LINGER 0, no unread data)"
	case EventTimeout:
		f.Kind = KindNoEOF
		f.Detail = fmt.Sprintf("the server never closed after the client's FIN (waited %s): "+
			"when read() returns 0 it must close the connection; in a fork server, does the "+
			"parent close the client's fd after fork, and does the child exit at EOF?", c.idle())
	default:
		f.Kind = KindReset
		f.Detail = "the connection failed after the echo was complete"
	}
}

// describeDiff explains bytes that differ from the expected echo.
func (c *echoConn) describeDiff(f *Failure, o obs) {
	d, tail := o.res.diff, o.res.tail
	f.Offset = d
	f.Ending = o.res.ending
	f.WindowStart = max(d-window, 0)
	f.ExpectedWindow = c.want.bytesAt(f.WindowStart, d+window)
	f.ActualWindow = append(c.want.bytesAt(f.WindowStart, d), tail[:min(len(tail), window)]...)
	f.Diagnosis, f.Detail = diagnose(&c.want, c.seed, d, tail)
	if d >= c.want.Len() {
		f.Kind = KindExtraBytes
		f.Expected = fmt.Sprintf("%d bytes echoed, then nothing more", c.want.Len())
		f.Actual = fmt.Sprintf("%d extra bytes after them", len(tail))
		if len(tail) >= tailLimit {
			f.Actual = fmt.Sprintf("at least %d extra bytes after them", len(tail))
		}
		return
	}
	if f.Diagnosis == DiagExtra {
		f.Kind = KindExtraBytes
	} else {
		f.Kind = KindWrongBytes
	}
	exp := c.want.bytesAt(d, d+1)
	f.Expected = fmt.Sprintf("%d bytes echoed unchanged", o.target)
	f.Actual = fmt.Sprintf("byte 0x%02x instead of 0x%02x at offset %d", tail[0], exp[0], d)
}

// maxShift is the largest insertion or deletion found by byte alignment;
// larger ones are found through the payload tags.
const maxShift = 64

// minMatch is how many bytes must realign after a difference for the
// alignment to count (random data realigns by chance with probability
// 2^-128).
const minMatch = 16

// diagnose names what happened to the bytes at stream offset d, where the
// received bytes tail began to differ from want, and says what to fix.
func diagnose(want *stream, seed uint64, d int64, tail []byte) (Diagnosis, string) {
	// A header may have begun just before d (its first bytes matched), so
	// the scan starts headerSize-1 bytes early; those bytes are the
	// expected ones, which the received ones equalled.
	prefix := want.bytesAt(d-(headerSize-1), d)
	tags := findTags(seed, append(prefix, tail...), 256)
	for i := range tags {
		tags[i].pos -= len(prefix)
	}
	own := map[uint32]bool{}
	var ourConn uint32
	for _, sg := range want.segs {
		if sg.p.tagged() {
			own[sg.p.conn] = true
			ourConn = sg.p.conn
		}
	}
	for _, t := range tags {
		if !own[t.conn] {
			return DiagOtherClient, fmt.Sprintf("at offset %d this connection received bytes that %s sent: "+
				"the server mixes up its clients' data (a buffer, variable or descriptor shared between "+
				"clients or threads?)", d+int64(t.pos), whoSent(t.conn, ourConn))
		}
	}
	if d >= want.Len() {
		if len(tags) > 0 {
			if at, ok := want.locate(tags[0].tag); ok {
				return DiagDuplicated, fmt.Sprintf("after the complete echo, the bytes "+
					"sent at offset %d came back again: the server sends some data twice", at)
			}
		}
		if at, ok := repeated(want, tail); ok {
			return DiagDuplicated, fmt.Sprintf("after the complete echo, the bytes "+
				"sent at offset %d came back again: the server sends some data twice", at)
		}
		return DiagExtra, extraDetail(tail, "after the complete echo")
	}
	exp := want.bytesAt(d, d+int64(len(tail))+maxShift)
	// Letters in the other case, and nothing else changed, anywhere in
	// what followed: one fault, named the same in every check.
	if caseChanged(tail, exp) {
		return DiagAltered, caseDetail(d)
	}
	if j, ok := realigned(tail, exp); ok {
		if caseChanged(tail[:j], exp[:j]) {
			return DiagAltered, caseDetail(d)
		}
		return DiagAltered, fmt.Sprintf("%d bytes from offset %d "+
			"were changed in place; the bytes after them are right", j, d)
	}
	for k := 1; k <= maxShift; k++ {
		if shifted(tail[min(k, len(tail)):], exp, len(tail) > k) {
			ins := tail[:k]
			if bytes.Equal(ins, want.bytesAt(d-int64(k), d)) {
				return DiagDuplicated, fmt.Sprintf("the %d bytes before offset "+
					"%d came back twice: the server sends some data twice", k, d)
			}
			return DiagExtra, extraDetail(ins, fmt.Sprintf("at offset %d, inside the echo", d))
		}
		if k < len(exp) && shifted(tail, exp[k:], len(tail) > 0) {
			return DiagDropped, fmt.Sprintf("%d bytes are missing at offset %d: the server loses data "+
				"(does it ignore short writes, i.e. write() returning less than asked, or reuse its "+
				"buffer before all of it is sent?)", k, d)
		}
	}
	if len(tags) > 0 {
		if det, diag, ok := diagnoseTags(want, d, tags, tail); ok {
			return diag, det
		}
	}
	return DiagAltered, fmt.Sprintf("the bytes from offset %d differ from what "+
		"was sent and match nothing the client sent: the server changes the data", d)
}

// diagnoseTags uses the first tag after a difference to tell dropped,
// duplicated, reordered and altered data apart.
func diagnoseTags(want *stream, d int64, tags []tagAt, tail []byte) (string, Diagnosis, bool) {
	first := tags[0]
	e, ok := want.locate(first.tag)
	if !ok {
		return "", DiagNone, false
	}
	pos := d + int64(first.pos)
	switch shift := e - pos; {
	case shift == 0:
		rest := tail[first.pos:]
		if bytes.Equal(rest, want.bytesAt(e, e+int64(len(rest)))) {
			return fmt.Sprintf("bytes from offset %d to %d were changed in place; the data after them is right",
				d, pos), DiagAltered, true
		}
		return fmt.Sprintf("the bytes from offset %d on differ from what was sent, though they keep "+
			"its length and some of its bytes (the payload's tags): the server changes the data", d), DiagAltered, true
	case shift > 0:
		for _, t := range tags[1:] {
			if at, ok := want.locate(t.tag); ok && at >= pos && at < e {
				return fmt.Sprintf("the bytes sent at offset %d came back at offset %d, after later "+
					"data: the server reorders data (several writers or buffers per connection?)",
					at, d+int64(t.pos)), DiagReordered, true
			}
		}
		return fmt.Sprintf("%d bytes are missing from offset %d (the echo resumes with the bytes sent at offset "+
			"%d): the server loses data (does it ignore short writes, or overwrite its buffer before sending it?)",
			shift, d, e), DiagDropped, true
	default:
		return fmt.Sprintf("at offset %d the bytes sent at offset %d came back again: the server sends some data "+
			"twice (does it write the whole buffer instead of the bytes read, or resend after a short write?)",
			pos, e), DiagDuplicated, true
	}
}

// realigned reports whether, after a run of at most maxShift changed bytes,
// tail lines up with exp again at the same offsets; j is the run's length.
func realigned(tail, exp []byte) (int, bool) {
	for j := 1; j <= maxShift && j < len(tail) && j < len(exp); j++ {
		if shifted(tail[j:], exp[j:], true) {
			return j, true
		}
	}
	return 0, false
}

// shifted reports whether a starts like b: for at least minMatch bytes, or
// for all of both when they end together.
func shifted(a, b []byte, nonEmpty bool) bool {
	if !nonEmpty {
		return false
	}
	m := min(len(a), len(b))
	if m == 0 || !bytes.Equal(a[:m], b[:m]) {
		return false
	}
	return m >= minMatch || len(a) == len(b)
}

// caseChanged reports whether every differing byte of got is exp's letter
// in the other case, and at least one differs.
func caseChanged(got, exp []byte) bool {
	n := min(len(got), len(exp))
	changed := 0
	for i := 0; i < n; i++ {
		g, e := got[i], exp[i]
		if g == e {
			continue
		}
		if g|0x20 != e|0x20 || g|0x20 < 'a' || g|0x20 > 'z' {
			return false
		}
		changed++
	}
	return changed > 0
}

func caseDetail(d int64) string {
	return fmt.Sprintf("letters came back in the other case from offset %d (e.g. 'a' became 'A'): the "+
		"server transforms the data (toupper?); an echo server must send back exactly what it receives", d)
}

// extraDetail describes bytes that were never sent.
func extraDetail(b []byte, where string) string {
	s := string(b[:min(len(b), 40)])
	switch {
	case bytes.Equal(b, []byte("\n")) || bytes.Equal(b, []byte("\r\n")) || bytes.Equal(b, []byte("\r")):
		return fmt.Sprintf("the server added a line ending %q %s: an echo server must not add anything", s, where)
	case bytes.Equal(b, []byte{0}):
		return fmt.Sprintf("the server added a NUL byte %s (it sends a C string's terminator?)", where)
	}
	return fmt.Sprintf("the server sent %d bytes that were never sent to it %s, starting %q", len(b), where, s)
}

// whoSent names the connection a foreign tag belongs to.
func whoSent(conn, ours uint32) string {
	if conn&connCheckMask == ours&connCheckMask {
		return fmt.Sprintf("client %d of this check", conn&connIndexMask+1)
	}
	return "a connection of another check"
}

// quoted renders up to n bytes of b for a sentence.
func quoted(b []byte, n int) string {
	if len(b) > n {
		return fmt.Sprintf("%q...", b[:n])
	}
	return fmt.Sprintf("%q", b)
}

// repeated reports whether extra bytes after the complete echo repeat
// bytes sent within the stream's last 64 KiB, and where they were sent.
func repeated(want *stream, extra []byte) (int64, bool) {
	n := min(len(extra), minMatch)
	if n < 4 {
		return 0, false
	}
	from := max(want.Len()-maxBuf, 0)
	i := bytes.Index(want.bytesAt(from, want.Len()), extra[:n])
	if i < 0 {
		return 0, false
	}
	return from + int64(i), true
}
