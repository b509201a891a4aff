package spec

import (
	"bytes"
	"context"
	"fmt"
)

// lineScanLimit bounds how much of the missing echo is searched for a
// newline before the line probe is tried.
const lineScanLimit = 1 << 20

// waitsForNewline reports whether an echo that stopped at c.received,
// short of target, stopped where a server that reads lines would: at the
// start of the message or right after a newline, with no newline in what
// is missing.
func (c *echoConn) waitsForNewline(from, target int64) bool {
	if c.received >= target || target-c.received > lineScanLimit {
		return false
	}
	if c.received > from && !bytes.Equal(c.want.bytesAt(c.received-1, c.received), []byte("\n")) {
		return false
	}
	return bytes.IndexByte(c.want.bytesAt(c.received, target), '\n') < 0
}

// lineHint probes a connection whose echo stopped where a line-reading
// server stops: it sends a newline and listens briefly. If the missing
// echo then comes, it returns the detail that says so. The connection is
// left unusable for the check (a newline was added to the stream).
func (c *echoConn) lineHint(ctx context.Context, from, target int64) (string, bool) {
	if ctx.Err() != nil || c.halfClosed || c.stoppedAtNUL(from) || !c.waitsForNewline(from, target) {
		return "", false
	}
	got, total := c.received-from, target-from
	nl := literal([]byte("\n"))
	c.want.add(nl)
	if c.write(ctx, nl, xfer{}, newWriteGate(c.conn)) != nil {
		return "", false
	}
	if r := c.listen(c.env.Scaled(hintTimeout)); r.diff < 0 {
		return "", false
	}
	c.lineHinted = true
	if got == 0 {
		return fmt.Sprintf("nothing came back for %s, until the client sent a newline: %s", c.idle(), readsLines), true
	}
	return fmt.Sprintf("the echo stopped after %d of %d bytes, at the end of a "+
		"line, and the rest came back only when the client sent a newline: %s", got, total, readsLines), true
}

// readsLines is the diagnosis of a server that waits for a newline.
const readsLines = "the server reads lines (fgets, getline, a line " +
	"scanner) instead of echoing whatever each read() returns"
