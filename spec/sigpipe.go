package spec

import (
	"context"
	"errors"
	"os"
	"time"
)

// robustness/reset-pending-write provokes SIGPIPE on purpose, in every I/O
// design. A write to a connection that the peer has reset raises SIGPIPE
// unless the server ignores it, except for the first write after a plain
// RST, which reports ECONNRESET instead. But when the peer's FIN came
// first (the server's socket is in CLOSE_WAIT), the RST leaves EPIPE
// pending, and the server's very next write, or the retry of a write that
// came back short, raises SIGPIPE. So each client:
//
//  1. writes without reading, waiting after each write until the server's
//     kernel has acknowledged it, until the server is stuck: for several
//     writes in a row no echo arrived and the server's advertised window
//     shrank by what was written, to less than half its largest size. The
//     server is then blocked writing the echo (or keeps it queued in an
//     event loop) and leaves its input unread, not merely slow;
//  2. half-closes, which the server's kernel acknowledges at once: the
//     server still holds input to echo, which cannot leave;
//  3. resets (SO_LINGER 0).
//
// The server's next write to that connection is fatal if SIGPIPE is not
// ignored. If the window cannot be read (an old kernel) or the writes stall
// first, the client reads a little at a time until its own unsent bytes
// are gone, then half-closes; where no socket state can be read (not
// Linux), it resets after step 1.
const (
	pendingClients = 3
	pendingChunk   = 64 << 10
	pendingLimit   = 16 * mib
	// pendingDrain is how long written bytes may take to be acknowledged
	// before the server counts as no longer taking data. Once the server
	// sends nothing back to carry them, its kernel delays ACKs for up to
	// 200 ms (Linux's TCP_DELACK_MAX), so this is never scaled below that.
	pendingDrain = 300 * time.Millisecond
	// pendingSettle bounds steps 2 and 3.
	pendingSettle = 2 * time.Second
	pendingBite   = 4 << 10
	pendingStep   = 16 << 10
	// pendingPoll is how often the socket's state is looked at.
	pendingPoll = 2 * time.Millisecond
	// pendingStill is how many writes in a row must find the server
	// reading nothing and sending nothing before it counts as blocked.
	pendingStill = 3
)

var robustnessResetPendingWriteCheck = entry{
	Check: Check{
		ID: "robustness/reset-pending-write",
		Requirement: "Clients that half-close, then reset while the server still has their echo to write, do not " +
			"take the server down (SIGPIPE).",
		Level:    Must,
		Timeout:  40 * time.Second,
		Schedule: Disruptive,
	},
	test: robustnessResetPendingWrite,
}

// robustnessResetPendingWrite makes clients half-close and reset while the server
// has their echo to write, then checks the server still serves.
func robustnessResetPendingWrite(ctx context.Context, p *probe) error {
	return rudeThenProbeN(ctx, p, pendingClients, "half-closed, then reset while the server was writing their echo",
		func(ctx context.Context, p *probe, i int, c *echoConn) {
			c.resetPending(ctx, p.payload(i, 1, pendingLimit))
		})
}

// resetPending runs steps 1 to 3 on c and resets it. Every step is bounded;
// an error ends the abuse early with the reset.
func (c *echoConn) resetPending(ctx context.Context, p payload) {
	defer c.abort()
	c.buffers(maxBuf)
	chunk := c.wbuf[:min(pendingChunk, len(c.wbuf))]
	p.fill(chunk, 0)
	drain := max(c.env.Scaled(pendingDrain), pendingDrain)
	lastWnd, maxWnd, lastIn, still, flowing := 0, 0, -1, 0, true
	for sent := int64(0); sent < p.Len(); {
		n := len(chunk)
		if !flowing && lastWnd < maxWnd {
			// The server has stopped reading: approach its limit in
			// small steps, so the window is seen shrinking before it
			// closes.
			n = pendingStep
		}
		_ = c.conn.SetWriteDeadline(time.Now().Add(drain)) // a closed conn shows up in Write
		k, err := c.conn.Write(chunk[:n])
		sent += int64(k)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
			break
		}
		if !c.drained(ctx, drain) {
			break
		}
		w, werr := sendWindow(c.conn)
		in, ierr := unreadBytes(c.conn)
		if werr != nil || ierr != nil || w == 0 {
			continue
		}
		flowing = in != lastIn
		maxWnd = max(maxWnd, w)
		// Stuck: no echo arrived and the window shrank by what was
		// written, several writes in a row.
		if !flowing && w <= lastWnd-k/2 {
			still++
		} else {
			still = 0
		}
		lastIn, lastWnd = in, w
		if still >= pendingStill {
			break
		}
	}
	// A receive queue that the server no longer reads can still take a
	// late segment (the kernel compacts it), so wait for the last write's
	// acknowledgement before reading anything, which would let the
	// server write on.
	deadline := time.Now().Add(c.env.Scaled(pendingSettle))
	c.drained(ctx, time.Until(deadline)/2)
	halfClosed := false
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !halfClosed {
			q, err := unsentBytes(c.conn)
			if err != nil {
				return
			}
			if q == 0 {
				if c.closeWrite() != nil {
					return
				}
				halfClosed = true
			}
		}
		if halfClosed {
			if ok, err := finAcked(c.conn); err != nil || ok {
				return
			}
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(pendingPoll * 5))
		_, err := c.conn.Read(c.rbuf[:min(pendingBite, len(c.rbuf))])
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
	}
}

// drained waits, at most d, for c's send queue to be acknowledged in full.
// It reports false when it was not, or when it cannot tell.
func (c *echoConn) drained(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	t := time.NewTicker(pendingPoll)
	defer t.Stop()
	for {
		q, err := unsentBytes(c.conn)
		if err != nil || q == 0 {
			return err == nil
		}
		if !time.Now().Before(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}
