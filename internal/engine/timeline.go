package engine

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// TimelineEdge is how many events a Timeline keeps at each end of the
// exchange.
const TimelineEdge = 6

// ExchangeEvent is one write, read or close on a connection of a check.
type ExchangeEvent struct {
	// At is the time since the check's first connection attempt.
	At time.Duration
	// Conn numbers the check's connections from 1, in dial order.
	Conn int
	// Op is "connect", "write", "read", "half-close", "reset" or "close".
	Op string
	// Bytes is how many bytes the write or read moved.
	Bytes int
	// End, on a read or write that failed, is what ended it: "eof",
	// "reset", "timeout", "closed" (by the checker, or its watchdog) or
	// the error text.
	End string
}

// String renders the event as one line: "+12.4ms  conn 1  read 4096 B  eof".
func (e ExchangeEvent) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "+%-9s conn %-3d %s", fmtSince(e.At), e.Conn, e.Op)
	if e.Op == "write" || e.Op == "read" {
		fmt.Fprintf(&b, " %d B", e.Bytes)
	}
	if e.End != "" {
		fmt.Fprintf(&b, ", ended by %s", e.End)
	}
	return b.String()
}

func fmtSince(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// Timeline is a short account of one run of a check's exchange with the
// server: its first and last TimelineEdge events, and how many were left
// out between them. The exchange itself can be megabytes; the timeline
// stays a few lines.
type Timeline struct {
	Head []ExchangeEvent
	Tail []ExchangeEvent
	// Omitted counts the events between Head and Tail.
	Omitted int
	// Conns is how many connections the check made; Written and Read
	// total the bytes moved on all of them.
	Conns         int
	Written, Read int64
}

// Lines renders the timeline, one event a line, with a line for the
// omitted events between the head and the tail.
func (t *Timeline) Lines() []string {
	if t == nil {
		return nil
	}
	var out []string
	out = append(out, fmt.Sprintf("%d connection(s), %d bytes written, %d bytes read", t.Conns, t.Written, t.Read))
	for _, e := range t.Head {
		out = append(out, e.String())
	}
	if t.Omitted > 0 {
		out = append(out, fmt.Sprintf("... %d more events ...", t.Omitted))
	}
	for _, e := range t.Tail {
		out = append(out, e.String())
	}
	return out
}

// recorder collects the events of one check run, keeping the first and
// the last TimelineEdge of them. It is safe for concurrent use.
type recorder struct {
	mu      sync.Mutex
	start   time.Time
	head    []ExchangeEvent
	ring    [TimelineEdge]ExchangeEvent
	n       int // events after the head
	conns   int
	written int64
	read    int64
}

func newRecorder() *recorder { return &recorder{start: time.Now()} }

func (r *recorder) add(conn int, op string, n int, err error) {
	e := ExchangeEvent{Conn: conn, Op: op, Bytes: n, End: endOf(err)}
	r.mu.Lock()
	defer r.mu.Unlock()
	e.At = time.Since(r.start)
	switch op {
	case "write":
		r.written += int64(n)
	case "read":
		r.read += int64(n)
	}
	if len(r.head) < TimelineEdge {
		r.head = append(r.head, e)
		return
	}
	r.ring[r.n%TimelineEdge] = e
	r.n++
}

func (r *recorder) newConn() int {
	r.mu.Lock()
	r.conns++
	n := r.conns
	r.mu.Unlock()
	r.add(n, "connect", 0, nil)
	return n
}

// timeline returns what was recorded, or nil when nothing was.
func (r *recorder) timeline() *Timeline {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.head) == 0 {
		return nil
	}
	t := &Timeline{Head: append([]ExchangeEvent(nil), r.head...), Conns: r.conns, Written: r.written, Read: r.read}
	kept := min(r.n, TimelineEdge)
	t.Omitted = r.n - kept
	for k := r.n - kept; k < r.n; k++ {
		t.Tail = append(t.Tail, r.ring[k%TimelineEdge])
	}
	return t
}

// endOf names what ended a read or write, or "" for no error.
func endOf(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, io.EOF):
		return "eof (the server closed)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, net.ErrClosed):
		return "closed by the checker"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// recordedConn is a connection that records its I/O in a recorder. It
// forwards the optional methods the checks use (CloseWrite, SetLinger,
// SetNoDelay, SetReadBuffer, SetWriteBuffer) to the TCP connection.
type recordedConn struct {
	*net.TCPConn
	rec *recorder
	id  int
}

func (c *recordedConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if n > 0 || err != nil {
		c.rec.add(c.id, "read", n, err)
	}
	return n, err
}

func (c *recordedConn) Write(p []byte) (int, error) {
	n, err := c.TCPConn.Write(p)
	c.rec.add(c.id, "write", n, err)
	return n, err
}

func (c *recordedConn) CloseWrite() error {
	err := c.TCPConn.CloseWrite()
	c.rec.add(c.id, "half-close", 0, err)
	return err
}

func (c *recordedConn) SetLinger(sec int) error {
	err := c.TCPConn.SetLinger(sec)
	if sec == 0 {
		c.rec.add(c.id, "reset", 0, err)
	}
	return err
}

func (c *recordedConn) Close() error {
	err := c.TCPConn.Close()
	if !errors.Is(err, net.ErrClosed) {
		c.rec.add(c.id, "close", 0, err)
	}
	return err
}
