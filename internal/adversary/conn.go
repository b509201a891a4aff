package adversary

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// chunkSize is the size of each read; queueLen is how many chunks read
// but not yet played may wait between the reader and the behaviour.
const (
	chunkSize = 32 << 10
	queueLen  = 8
)

// chunk is one read, with when it was read.
type chunk struct {
	data []byte
	at   time.Time
}

// conn serves one connection: its reader records what the client sends
// and queues it; play (behave.go) writes what the behaviour wants.
type conn struct {
	cfg      Config
	nc       *net.TCPConn
	start    time.Time
	deadline time.Time
	quit     <-chan struct{}

	mu  sync.Mutex
	rec Record
}

// serve plays cfg.Behaviour on nc until both sides are done, closes nc
// and publishes the record. For Silent it publishes the record at the
// client's end, then holds nc open until the deadline or quit.
func serve(cfg Config, nc *net.TCPConn, id int, quit <-chan struct{}, publish func(Record)) {
	c := &conn{cfg: cfg, nc: nc, start: time.Now(), quit: quit}
	c.deadline = c.start.Add(cfg.ConnTimeout)
	c.rec = Record{ID: id, Behaviour: cfg.Behaviour}
	if err := nc.SetReadDeadline(c.deadline); err != nil {
		c.rec.ReadErr = err
	}
	chunks := make(chan chunk, queueLen)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		c.read(chunks)
	}()
	hold := c.play(chunks)
	for range chunks {
		// Whatever the behaviour left unplayed; the reader has recorded it.
	}
	<-readerDone
	if hold {
		publish(c.record())
		c.pause(time.Until(c.deadline))
		_ = nc.Close()
		return
	}
	_ = nc.Close() // already closed after Reset or Server.Close
	publish(c.record())
}

// record returns a copy of the record, its Duration set to now.
func (c *conn) record() Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec.Duration = time.Since(c.start)
	return c.rec
}

// read records and queues everything the client sends, until EOF, an
// error or the connection's deadline, then closes chunks.
func (c *conn) read(chunks chan<- chunk) {
	defer close(chunks)
	for {
		buf := make([]byte, chunkSize)
		n, err := c.nc.Read(buf)
		if n > 0 {
			now := time.Now()
			c.mu.Lock()
			if c.rec.ReceivedLen == 0 {
				c.rec.FirstByteAt = now.Sub(c.start)
			}
			c.rec.ReceivedLen += int64(n)
			if keep := c.cfg.MaxRecord - len(c.rec.Received); keep > 0 {
				c.rec.Received = append(c.rec.Received, buf[:min(n, keep)]...)
			}
			c.mu.Unlock()
			chunks <- chunk{data: buf[:n], at: now}
		}
		if err != nil {
			c.mu.Lock()
			switch {
			case errors.Is(err, io.EOF):
				c.clientEnded(EndFIN)
			case isReset(err):
				c.clientEnded(EndRST)
			default:
				c.rec.ReadErr = err
			}
			c.mu.Unlock()
			return
		}
	}
}

// clientEnded records the client's end, unless one is recorded already.
// c.mu must be held.
func (c *conn) clientEnded(e End) {
	if c.rec.ClientEnd == EndNone {
		c.rec.ClientEnd = e
		c.rec.ClientEndAt = time.Since(c.start)
	}
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// write writes p in one call with a deadline and records it. It reports
// whether the connection is still fit for writing.
func (c *conn) write(p []byte) bool {
	d := time.Now().Add(c.cfg.IOTimeout)
	if d.After(c.deadline) {
		d = c.deadline
	}
	if err := c.nc.SetWriteDeadline(d); err != nil {
		c.writeFailed(err)
		return false
	}
	n, err := c.nc.Write(p)
	c.mu.Lock()
	c.rec.Sent += int64(n)
	if n > 0 {
		c.rec.LastWriteAt = time.Since(c.start)
		if len(c.rec.Writes) < maxWrites {
			c.rec.Writes = append(c.rec.Writes, n)
		}
	}
	c.mu.Unlock()
	if err != nil {
		c.writeFailed(err)
		return false
	}
	return true
}

func (c *conn) writeFailed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if isReset(err) {
		c.clientEnded(EndRST)
		return
	}
	c.rec.WriteErr = err
}

// pause waits d, or less if the server closes; it reports whether the
// server is still open.
func (c *conn) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.quit:
		return false
	}
}

// halfClose sends the server's FIN: the behaviour is done writing.
func (c *conn) halfClose() {
	err := c.nc.CloseWrite()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.rec.WriteErr = err
		return
	}
	c.rec.ServerEnd = EndFIN
	c.rec.ServerEndAt = time.Since(c.start)
}

// reset ends the connection with an RST: SO_LINGER 0, then close.
func (c *conn) reset() {
	err := c.nc.SetLinger(0)
	if err == nil {
		err = c.nc.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.rec.WriteErr = err
		return
	}
	c.rec.ServerEnd = EndRST
	c.rec.ServerEndAt = time.Since(c.start)
}
