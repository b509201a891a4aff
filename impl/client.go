package impl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Client defaults.
const (
	// DefaultClientTimeout bounds the dial and every wait for progress.
	DefaultClientTimeout = 5 * time.Second
	// DefaultVerifyWindow is how many sent-but-not-yet-echoed bytes a
	// verifying client keeps. When it is full the client stops sending until
	// echoes arrive, so memory stays bounded whatever the server does.
	DefaultVerifyWindow = 8 << 20
	// interactiveChunk is the most the interactive mode sends before it
	// waits for the echo; a terminal line is at most 4096 bytes.
	interactiveChunk = 4096
	clientBufferSize = 32 << 10
)

// A Client is the reference echo client. The zero value needs only Addr.
type Client struct {
	// Addr is the server's "host:port".
	Addr string
	// Timeout bounds the dial, every write, and every wait for an echo of
	// bytes already sent or for the server's FIN after the half-close
	// (DefaultClientTimeout if 0). Waiting for input is not bounded.
	Timeout time.Duration
	// Verify makes the client compare the echo with what it sent and fail
	// with a *MismatchError at the first difference, at extra bytes, or when
	// the server closes before echoing everything.
	Verify bool
	// VerifyWindow is the bytes kept for Verify (DefaultVerifyWindow if 0).
	VerifyWindow int
}

// DialError reports that the client could not connect.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("cannot connect to %s: %v", e.Addr, cause(e.Err))
}
func (e *DialError) Unwrap() error { return e.Err }

// MismatchError reports that the echo differed from what was sent.
type MismatchError struct {
	// Offset is the offset in the stream of the first byte in question.
	Offset int64
	// Want and Got are the bytes at Offset, when Kind is MismatchByte.
	Want, Got byte
	// Kind says what went wrong.
	Kind MismatchKind
	// Sent is the number of bytes sent when the difference was found.
	Sent int64
}

// MismatchKind classifies a MismatchError.
type MismatchKind int

const (
	// MismatchByte: a byte came back changed.
	MismatchByte MismatchKind = iota
	// MismatchExtra: the server sent a byte that was never sent to it.
	MismatchExtra
	// MismatchShort: the server closed before echoing everything.
	MismatchShort
)

func (e *MismatchError) Error() string {
	switch e.Kind {
	case MismatchExtra:
		return fmt.Sprintf("verify: server sent an extra byte 0x%02x at offset %d (only %d bytes sent)", e.Got, e.Offset, e.Sent)
	case MismatchShort:
		return fmt.Sprintf("verify: echo ends at offset %d: the server closed after echoing %d bytes (%d sent)", e.Offset, e.Offset, e.Sent)
	}
	return fmt.Sprintf("verify: echo differs at offset %d: sent 0x%02x, got 0x%02x", e.Offset, e.Want, e.Got)
}

// ConnError reports a failure of the connection: a reset, a timeout, or
// the server closing before the client finished sending. errors.Is(err,
// os.ErrDeadlineExceeded) is true for timeouts.
type ConnError struct {
	Op             string // what the client was doing
	Sent, Received int64
	Err            error
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("%s: %v (sent %d bytes, received %d)", e.Op, cause(e.Err), e.Sent, e.Received)
}
func (e *ConnError) Unwrap() error { return e.Err }

// errClosedEarly is the cause when the server closes before the client's
// input ended.
var errClosedEarly = errors.New("server closed the connection before the input ended")

// LocalError reports a failure reading the input or writing the output.
type LocalError struct {
	Op  string
	Err error
}

func (e *LocalError) Error() string { return fmt.Sprintf("%s: %v", e.Op, e.Err) }
func (e *LocalError) Unwrap() error { return e.Err }

// cause returns the most telling text for err without repeating addresses.
func cause(err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errors.New("timed out")
	case errors.Is(err, syscall.ECONNRESET):
		return errors.New("connection reset by server")
	case errors.Is(err, syscall.EPIPE):
		return errors.New("broken pipe (server closed)")
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultClientTimeout
}

func (c *Client) dial(ctx context.Context) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: c.timeout()}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return nil, &DialError{Addr: c.Addr, Err: err}
	}
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		_ = conn.Close()
		return nil, &DialError{Addr: c.Addr, Err: fmt.Errorf("not a TCP connection: %T", conn)}
	}
	return tc, nil
}

// Pipe streams in to the server while it copies the echo to out, so it
// never deadlocks on large input. At the end of in it half-closes, then
// returns when the server closes: nil if all went well, or a *DialError,
// *MismatchError (Verify only), *ConnError or *LocalError. Cancelling ctx
// closes the connection and returns ctx.Err() at once.
//
// If the server closes or fails first, Pipe returns without waiting for in:
// a goroutine may stay blocked in in.Read until that read returns.
func (c *Client) Pipe(ctx context.Context, in io.Reader, out io.Writer) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	p := &pipe{conn: conn, timeout: c.timeout()}
	if c.Verify {
		size := c.VerifyWindow
		if size <= 0 {
			size = DefaultVerifyWindow
		}
		p.spool = newSpool(max(size, 2*clientBufferSize))
	}
	sent := make(chan error, 1)
	go func() { sent <- p.send(in) }()
	err = p.receive(out)
	if p.spool != nil {
		p.spool.close()
	}
	if ctx.Err() != nil {
		return ctx.Err() // the close above, not the server, ended the exchange
	}
	if err != nil {
		_ = conn.Close() // unblocks the sender's write
		return err
	}
	if p.isHalfClosed() {
		return <-sent // the sender is past its last read and write
	}
	// The server closed while input remained: a broken echo server.
	_ = conn.Close()
	s, r := p.counts()
	if p.spool != nil {
		return &MismatchError{Kind: MismatchShort, Offset: r, Sent: s}
	}
	return &ConnError{Op: "receive", Sent: s, Received: r, Err: errClosedEarly}
}

// pipe is the state Pipe's sender and receiver share.
type pipe struct {
	conn    *net.TCPConn
	timeout time.Duration
	spool   *spool // nil without Verify

	mu         sync.Mutex
	sent, recv int64
	halfClosed bool
}

// account adds progress and re-arms the read deadline: the receiver must
// hear from the server within the timeout while any echo or the FIN is
// owed, and may wait without bound otherwise (the input is idle).
func (p *pipe) account(sent, recv int64, halfClosed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent += sent
	p.recv += recv
	p.halfClosed = p.halfClosed || halfClosed
	var d time.Time
	if p.halfClosed || p.recv < p.sent {
		d = time.Now().Add(p.timeout)
	}
	_ = p.conn.SetReadDeadline(d) // fails only once closed; the read reports it
}

func (p *pipe) isHalfClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.halfClosed
}

func (p *pipe) counts() (sent, recv int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, p.recv
}

// send copies in to the connection and half-closes at its end.
func (p *pipe) send(in io.Reader) error {
	buf := make([]byte, clientBufferSize)
	for {
		n, rerr := in.Read(buf)
		if n > 0 {
			if p.spool != nil {
				if err := p.spool.push(buf[:n]); err != nil {
					return nil // the receiver ended the exchange and reports why
				}
			}
			if err := p.conn.SetWriteDeadline(time.Now().Add(p.timeout)); err != nil {
				return p.connError("send", err)
			}
			if _, err := p.conn.Write(buf[:n]); err != nil {
				return p.connError("send", err)
			}
			p.account(int64(n), 0, false)
		}
		if errors.Is(rerr, io.EOF) {
			// Marked first, so that the server's FIN never looks early.
			p.account(0, 0, true)
			if err := p.conn.CloseWrite(); err != nil {
				return p.connError("half-close", err)
			}
			return nil
		}
		if rerr != nil {
			return &LocalError{Op: "read input", Err: rerr}
		}
	}
}

// receive copies the echo to out, verifying it with the spool, until the
// server closes.
func (p *pipe) receive(out io.Writer) error {
	buf := make([]byte, clientBufferSize)
	for {
		n, rerr := p.conn.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				return &LocalError{Op: "write output", Err: err}
			}
			if p.spool != nil {
				if i, want, extra, ok := p.spool.match(buf[:n]); !ok {
					s, r := p.counts()
					e := &MismatchError{Offset: r + int64(i), Want: want, Got: buf[i], Sent: s}
					if extra {
						e.Kind = MismatchExtra
					}
					return e
				}
			}
			p.account(0, int64(n), false)
		}
		if errors.Is(rerr, io.EOF) {
			// Fewer bytes back than sent: the server closed before
			// echoing everything, whether or not the input has ended.
			s, r := p.counts()
			switch {
			case r < s && p.spool != nil:
				return &MismatchError{Kind: MismatchShort, Offset: r, Sent: s}
			case r < s:
				return &ConnError{Op: "receive", Sent: s, Received: r, Err: errClosedEarly}
			}
			return nil
		}
		if rerr != nil {
			return p.connError("receive", rerr)
		}
	}
}

func (p *pipe) connError(op string, err error) error {
	s, r := p.counts()
	return &ConnError{Op: op, Sent: s, Received: r, Err: err}
}

// Interactive is the classic line client: it sends each line of in as it
// is read and writes the echo of that line to out before reading the next.
// At the end of in it half-closes and returns when the server closes. Its
// errors are those of Pipe. Cancelling ctx returns ctx.Err() at once, even
// while it waits for a line; a goroutine may then stay blocked in in.Read
// until that read returns.
func (c *Client) Interactive(ctx context.Context, in io.Reader, out io.Writer) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return untilDone(ctx, conn, func() error { return c.interact(conn, in, out) })
}

// untilDone runs loop in its own goroutine and returns its error. If ctx
// ends first, it closes c, so that loop ends at its next use of c (it may
// be waiting for a line), and returns ctx's error without waiting for it.
func untilDone(ctx context.Context, c io.Closer, loop func() error) error {
	done := make(chan error, 1)
	go func() { done <- loop() }()
	select {
	case err := <-done:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	case <-ctx.Done():
		_ = c.Close()
		return ctx.Err()
	}
}

// interact is Interactive's loop.
func (c *Client) interact(conn *net.TCPConn, in io.Reader, out io.Writer) error {
	lines := bufio.NewReaderSize(in, interactiveChunk)
	echoed := make([]byte, interactiveChunk)
	var off int64
	for {
		line, rerr := lines.ReadSlice('\n') // a line longer than the buffer comes in pieces
		if len(line) > 0 {
			if err := c.exchange(conn, line, echoed[:len(line)], off); err != nil {
				return err
			}
			if _, err := out.Write(echoed[:len(line)]); err != nil {
				return &LocalError{Op: "write output", Err: err}
			}
			off += int64(len(line))
		}
		switch {
		case errors.Is(rerr, io.EOF):
			return c.finish(conn, off, out)
		case rerr != nil && !errors.Is(rerr, bufio.ErrBufferFull):
			return &LocalError{Op: "read input", Err: rerr}
		}
	}
}

// exchange sends line and reads its echo into echoed, verifying it if asked.
func (c *Client) exchange(conn *net.TCPConn, line, echoed []byte, off int64) error {
	sent := off + int64(len(line))
	if err := conn.SetWriteDeadline(time.Now().Add(c.timeout())); err != nil {
		return &ConnError{Op: "send", Sent: off, Received: off, Err: err}
	}
	if _, err := conn.Write(line); err != nil {
		return &ConnError{Op: "send", Sent: off, Received: off, Err: err}
	}
	if err := conn.SetReadDeadline(time.Now().Add(c.timeout())); err != nil {
		return &ConnError{Op: "receive", Sent: sent, Received: off, Err: err}
	}
	n, err := io.ReadFull(conn, echoed)
	if c.Verify {
		for i := range n {
			if echoed[i] != line[i] {
				return &MismatchError{Offset: off + int64(i), Want: line[i], Got: echoed[i], Sent: sent}
			}
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if c.Verify {
			return &MismatchError{Kind: MismatchShort, Offset: off + int64(n), Sent: sent}
		}
		return &ConnError{Op: "receive", Sent: sent, Received: off + int64(n), Err: errClosedEarly}
	default:
		return &ConnError{Op: "receive", Sent: sent, Received: off + int64(n), Err: err}
	}
}

// finish half-closes and waits for the server's FIN, copying (or, with
// Verify, rejecting) anything extra the server sends.
func (c *Client) finish(conn *net.TCPConn, sent int64, out io.Writer) error {
	if err := conn.CloseWrite(); err != nil {
		return &ConnError{Op: "half-close", Sent: sent, Received: sent, Err: err}
	}
	buf := make([]byte, interactiveChunk)
	recv := sent
	for {
		if err := conn.SetReadDeadline(time.Now().Add(c.timeout())); err != nil {
			return &ConnError{Op: "wait for close", Sent: sent, Received: recv, Err: err}
		}
		n, err := conn.Read(buf)
		if n > 0 {
			if c.Verify {
				return &MismatchError{Kind: MismatchExtra, Offset: recv, Got: buf[0], Sent: sent}
			}
			if _, werr := out.Write(buf[:n]); werr != nil {
				return &LocalError{Op: "write output", Err: werr}
			}
			recv += int64(n)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &ConnError{Op: "wait for close", Sent: sent, Received: recv, Err: err}
		}
	}
}
