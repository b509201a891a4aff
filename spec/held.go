package spec

import (
	"context"
	"time"
)

// heldQuiet is how long, after a wait for an echo ended in silence, both
// ends of the connection must stay as they were for Failure.Held: a server
// that has just read the bytes and is about to echo them does so within it.
const heldQuiet = 250 * time.Millisecond

// held returns how many bytes the server's program read from the
// connection and keeps without echoing them: every byte sent was delivered
// and read (the client's send queue and the server's receive queue are
// empty), nothing is on its way back (the server's send queue and the
// client's receive queue are empty), and so it stays for heldQuiet. It
// returns 0 when that is not so, or cannot be seen: the server's socket is
// not on this machine, or this is not Linux.
//
// A server busy with another client never reads this connection, or has
// not accepted it yet: its bytes wait in the server's receive queue. So
// bytes held this way are the server's own choice, which a run alone
// would not change.
func (c *echoConn) held(ctx context.Context) int64 {
	if c.sent <= c.received || !c.quiet() {
		return 0
	}
	if !pause(ctx, c.env.Scaled(heldQuiet), nil) || !c.quiet() {
		return 0
	}
	return c.sent - c.received
}

// quiet reports whether both ends of the connection have nothing in
// their queues: everything sent was read, and nothing is on its way back.
func (c *echoConn) quiet() bool {
	if n, err := unsentBytes(c.conn); err != nil || n != 0 {
		return false
	}
	if n, err := unreadBytes(c.conn); err != nil || n != 0 {
		return false
	}
	tx, rx, err := peerQueues(c.conn)
	return err == nil && tx == 0 && rx == 0
}
