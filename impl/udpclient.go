package impl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// UDP client defaults and limits.
const (
	// DefaultUDPTimeout is how long a UDPClient waits for each reply
	// before it sends the datagram again.
	DefaultUDPTimeout = time.Second
	// DefaultUDPRetries is the echo-client command's number of resends.
	DefaultUDPRetries = 3
	// MaxUDPRetries bounds UDPClient.Retries.
	MaxUDPRetries = 100
	// staleReplies bounds the late replies one wait may discard.
	staleReplies = 1000
)

// A UDPClient is the reference UDP echo client. It sends one datagram at
// a time and waits for its reply before it sends the next, so a reply can
// only belong to the datagram in flight (or, when that was resent, be a
// late copy). The zero value needs only Addr; it waits DefaultUDPTimeout
// and never resends.
type UDPClient struct {
	// Addr is the server's "host:port".
	Addr string
	// Timeout is the wait for each reply before the datagram is sent
	// again (DefaultUDPTimeout if 0).
	Timeout time.Duration
	// Retries is how many times a datagram is sent again after a silent
	// wait, at most MaxUDPRetries. A datagram without a reply after all of
	// them ends the exchange with a *NoReplyError.
	Retries int
	// Verify makes the client compare each reply with its datagram and
	// fail with a *DatagramMismatchError at the first difference.
	Verify bool
}

// NoReplyError reports a datagram that got no reply after every try.
// errors.Is(err, os.ErrDeadlineExceeded) is true.
type NoReplyError struct {
	Datagram int64 // from 1
	Size     int
	Tries    int
	Wait     time.Duration // per try
}

func (e *NoReplyError) Error() string {
	return fmt.Sprintf("no reply to datagram %d (%d bytes) after %d tries of %v each", e.Datagram, e.Size, e.Tries, e.Wait)
}
func (e *NoReplyError) Unwrap() error { return os.ErrDeadlineExceeded }

// DatagramMismatchError reports a reply that differs from its datagram.
type DatagramMismatchError struct {
	Datagram  int64 // from 1
	Sent, Got int   // sizes
	// Offset is where they first differ, within the datagram; StreamOffset
	// is the same place counted over every byte sent so far.
	Offset, StreamOffset int64
}

func (e *DatagramMismatchError) Error() string {
	what := "differs"
	switch {
	case int64(e.Got) == e.Offset:
		what = "is cut short"
	case int64(e.Sent) == e.Offset:
		what = "has bytes added"
	}
	return fmt.Sprintf("verify: the reply to datagram %d %s at offset %d (input offset %d): sent %d bytes, got %d",
		e.Datagram, what, e.Offset, e.StreamOffset, e.Sent, e.Got)
}

// errPortUnreachable is the cause when ICMP says nothing listens.
var errPortUnreachable = errors.New("nothing listens on this UDP port (ICMP port unreachable)")

func (c *UDPClient) wait() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultUDPTimeout
}

// Interactive sends each line of in, newline included, as one datagram
// (a line longer than MaxUDPPayload in pieces of that size) and writes
// its reply to out before reading the next line. It returns nil at the end
// of in, or a *DialError (the address cannot be resolved, or ICMP says
// nothing listens), *NoReplyError, *DatagramMismatchError (Verify only),
// *ConnError or *LocalError. Cancelling ctx returns ctx.Err() at once; a
// goroutine may then stay blocked in in.Read until that read returns.
func (c *UDPClient) Interactive(ctx context.Context, in io.Reader, out io.Writer) error {
	lines := bufio.NewReaderSize(in, MaxUDPPayload)
	return c.run(ctx, out, func() ([]byte, error) {
		line, err := lines.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			err = nil
		}
		return line, err
	})
}

// Pipe sends in as datagrams of at most MaxUDPPayload bytes, one per read
// of in, and writes each reply to out. Its errors are Interactive's.
func (c *UDPClient) Pipe(ctx context.Context, in io.Reader, out io.Writer) error {
	buf := make([]byte, MaxUDPPayload)
	return c.run(ctx, out, func() ([]byte, error) {
		n, err := in.Read(buf)
		return buf[:n], err
	})
}

// run exchanges every chunk next returns until io.EOF.
func (c *UDPClient) run(ctx context.Context, out io.Writer, next func() ([]byte, error)) error {
	if c.Retries < 0 || c.Retries > MaxUDPRetries {
		return fmt.Errorf("udp retries %d is outside [0, %d]", c.Retries, MaxUDPRetries)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "udp", c.Addr)
	if err != nil {
		return &DialError{Addr: c.Addr, Err: err}
	}
	conn := nc.(*net.UDPConn)
	defer conn.Close()
	return untilDone(ctx, conn, func() error { return c.loop(conn, out, next) })
}

// loop is run's body.
func (c *UDPClient) loop(conn *net.UDPConn, out io.Writer, next func() ([]byte, error)) error {
	ex := exchanger{client: c, conn: conn, buf: make([]byte, udpBufferSize)}
	for {
		chunk, rerr := next()
		if len(chunk) > 0 {
			reply, err := ex.roundTrip(chunk)
			if err != nil {
				return err
			}
			if _, err := out.Write(reply); err != nil {
				return &LocalError{Op: "write output", Err: err}
			}
		}
		if errors.Is(rerr, io.EOF) {
			return nil
		}
		if rerr != nil {
			return &LocalError{Op: "read input", Err: rerr}
		}
	}
}

// exchanger sends datagrams one at a time and matches their replies.
type exchanger struct {
	client *UDPClient
	conn   *net.UDPConn
	buf    []byte
	count  int64  // datagrams sent so far
	off    int64  // bytes sent so far
	prev   []byte // the previous datagram, if it was sent more than once
}

// roundTrip sends d until a reply comes or the tries run out, and returns
// the reply (valid until the next call).
func (e *exchanger) roundTrip(d []byte) ([]byte, error) {
	c := e.client
	e.count++
	tries := c.Retries + 1
	for try := range tries {
		if err := e.conn.SetWriteDeadline(time.Now().Add(c.wait())); err != nil {
			return nil, e.connError("send", err)
		}
		if _, err := e.conn.Write(d); err != nil {
			return nil, e.connError("send", err)
		}
		reply, err := e.await(d)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.Verify && !bytes.Equal(reply, d) {
			i := min(len(reply), len(d))
			for j := range i {
				if reply[j] != d[j] {
					i = j
					break
				}
			}
			return nil, &DatagramMismatchError{Datagram: e.count, Sent: len(d), Got: len(reply), Offset: int64(i), StreamOffset: e.off + int64(i)}
		}
		e.off += int64(len(d))
		e.prev = nil
		if try > 0 {
			e.prev = append(e.prev[:0], d...)
		}
		return reply, nil
	}
	return nil, &NoReplyError{Datagram: e.count, Size: len(d), Tries: tries, Wait: c.wait()}
}

// await returns the first reply to d within the wait, skipping late
// copies of a resent previous datagram.
func (e *exchanger) await(d []byte) ([]byte, error) {
	if err := e.conn.SetReadDeadline(time.Now().Add(e.client.wait())); err != nil {
		return nil, e.connError("receive", err)
	}
	for range staleReplies {
		n, err := e.conn.Read(e.buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, err
		}
		if err != nil {
			return nil, e.connError("receive", err)
		}
		r := e.buf[:n]
		if e.prev != nil && bytes.Equal(r, e.prev) && !bytes.Equal(r, d) {
			continue
		}
		return r, nil
	}
	return nil, e.connError("receive", errors.New("too many late replies"))
}

// connError reports a socket error; ICMP port unreachable means nothing
// listens, which is a *DialError.
func (e *exchanger) connError(op string, err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &DialError{Addr: e.client.Addr, Err: errPortUnreachable}
	}
	return &ConnError{Op: op, Sent: e.off, Received: e.off, Err: err}
}
