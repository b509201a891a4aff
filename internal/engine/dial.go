package engine

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// defaultDialTimeout bounds a dial whose context has no deadline, at scale 1.
const defaultDialTimeout = 10 * time.Second

// errWatchdog is returned by a tracked dial after the check's watchdog fired.
var errWatchdog = errors.New("dial after the check's watchdog fired")

// connTracker records every connection one run of a check dials, so the
// watchdog can close them and unblock I/O that ignores the context, and
// records their I/O for the failure's timeline. The connections wrap the
// dialer's *net.TCPConn and keep its methods, so checks can half-close
// and reset them.
type connTracker struct {
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
	rec    *recorder
}

// timeline returns the recorded exchange, or nil.
func (t *connTracker) timeline() *Timeline {
	t.mu.Lock()
	rec := t.rec
	t.mu.Unlock()
	if rec == nil {
		return nil
	}
	return rec.timeline()
}

// dialer returns an Env.Dial that dials addr() and tracks the connection.
func (t *connTracker) dialer(network string, addr func() string, scale float64) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(float64(defaultDialTimeout)*scale))
			defer cancel()
		}
		t.mu.Lock()
		closed := t.closed
		if t.rec == nil {
			t.rec = newRecorder()
		}
		rec := t.rec
		t.mu.Unlock()
		if closed {
			return nil, errWatchdog
		}
		var d net.Dialer
		raw, err := d.DialContext(ctx, network, addr())
		if err != nil {
			rec.add(0, "connect", 0, err)
			return nil, err
		}
		var c net.Conn = raw
		if tc, ok := raw.(*net.TCPConn); ok {
			c = &recordedConn{TCPConn: tc, rec: rec, id: rec.newConn()}
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed {
			c.Close()
			return nil, errWatchdog
		}
		t.conns = append(t.conns, c)
		return c, nil
	}
}

// closeAll closes every tracked connection and refuses further dials.
// Closing a connection the check already closed is harmless.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	conns := t.conns
	t.conns = nil
	t.closed = true
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}
