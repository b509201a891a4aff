package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"

	"github.com/echoconf/echoconf/spec"
)

// inFlightBudget bounds the bytes all of a stream run's connections hold
// sent but not yet verified; each connection holds at least minInFlight.
// The writer generates and hands over batchBytes (or one write, when
// larger) at a time and writes them --size bytes per call, so that small
// writes do not each cost a hand-over between writer and reader.
const (
	inFlightBudget = 32 << 20
	minInFlight    = 1 << 20
	batchBytes     = 64 << 10
)

func runStream(ctx context.Context, cfg Config, r *Result) error {
	return drive(ctx, cfg, r, cfg.Conns, nil, streamConn)
}

// sentChunk is a written chunk the reader has not verified yet. The writer
// generates each byte once; the reader compares the echo with it and
// regenerates only to diagnose a difference.
type sentChunk struct {
	buf *[]byte
	off int64
	n   int
}

// streamConn writes the stream of connection i while it reads and
// verifies the echo, until the run stops; then it half-closes and verifies
// the rest and the server's FIN.
func streamConn(ctx context.Context, i int, st *state) error {
	cfg := st.cfg
	lbl := label(i, cfg.Conns)
	es := spec.NewEchoStream(cfg.Seed, uint32(i), lbl)
	c, closeConn, err := dial(ctx, st, lbl)
	if err != nil {
		return err
	}
	defer closeConn()
	batch := max(batchBytes/cfg.Size, 1) * cfg.Size
	slots := max(max(inFlightBudget/cfg.Conns, minInFlight)/batch, 2)
	free := make(chan *[]byte, slots) // buffers are made as needed, up to slots
	sent := make(chan sentChunk, slots)
	var wrote, echoed atomic.Int64
	werr := make(chan error, 1)
	go func() { werr <- streamWrite(ctx, c, es, st, lbl, batch, free, sent, &wrote, &echoed) }()
	rerr := streamRead(c, es, st, lbl, free, sent, &wrote, &echoed)
	if rerr != nil {
		_ = c.Close() // unblocks the writer
		return resetFirst(rerr, <-werr)
	}
	return <-werr
}

// streamWrite writes the stream in batches of batch bytes, --size bytes
// per write, until the run stops, then half-closes. A write that waits
// --timeout fails only if the echo made no progress meanwhile: the kernel
// wakes a blocked writer only once a third of its send buffer is free,
// which a slow but working server can take longer than --timeout to drain.
func streamWrite(ctx context.Context, c *net.TCPConn, es *spec.EchoStream, st *state, lbl string, batch int, free chan *[]byte, sent chan<- sentChunk, wrote, echoed *atomic.Int64) error {
	defer close(sent)
	var off int64
	made := 0
	dl := newRearmer(c.SetWriteDeadline, st)
	for !st.stopping.Load() {
		var b *[]byte
		select {
		case b = <-free:
		default:
			if made < cap(free) {
				made++
				buf := make([]byte, batch)
				b = &buf
				break
			}
			select {
			case b = <-free:
			case <-ctx.Done():
				return nil
			}
		}
		es.Fill(*b, off)
		sent <- sentChunk{buf: b, off: off, n: len(*b)}
		// The whole batch is written, even once the run stops: the reader
		// expects it.
		for w := *b; len(w) > 0; {
			if err := dl.arm(); err != nil {
				return ioFailure(err, lbl, off, 0, "the server to read")
			}
			before := echoed.Load()
			n, err := c.Write(w[:min(st.cfg.Size, len(w))])
			off += int64(n)
			wrote.Store(off)
			w = w[n:]
			if errors.Is(err, os.ErrDeadlineExceeded) && echoed.Load() > before {
				dl.expired() // the server is slow, not stuck: write the rest
				continue
			}
			if err != nil {
				return ioFailure(err, lbl, off, echoed.Load(), "the server to read")
			}
		}
	}
	if err := c.CloseWrite(); err != nil {
		return ioFailure(err, lbl, off, 0, "a half-close")
	}
	return nil
}

// streamRead verifies the echo against the chunks the writer sent, in
// order, until the server's FIN.
func streamRead(c *net.TCPConn, es *spec.EchoStream, st *state, lbl string, free chan<- *[]byte, sent <-chan sentChunk, wrote, echoed *atomic.Int64) error {
	buf := make([]byte, 64<<10)
	var (
		off  int64 // verified so far
		cur  sentChunk
		have bool // cur is set
		used int  // bytes of cur verified
	)
	dl := newRearmer(c.SetReadDeadline, st)
	for {
		if err := dl.arm(); err != nil {
			return ioFailure(err, lbl, wrote.Load(), off, "the echo")
		}
		n, err := c.Read(buf)
		got := buf[:n]
		for len(got) > 0 {
			if !have {
				ch, ok := <-sent
				if !ok { // the writer is done: nothing more was sent
					return es.Extra(got, wrote.Load())
				}
				cur, have, used = ch, true, 0
			}
			k := min(len(got), cur.n-used)
			if !bytes.Equal(got[:k], (*cur.buf)[used:used+k]) {
				// Diagnose with everything that arrived: it shows what
				// happened to the bytes after the difference too.
				return es.Verify(got, off, wrote.Load(), nil)
			}
			got = got[k:]
			used += k
			off += int64(k)
			if used == cur.n {
				free <- cur.buf
				have = false
			}
		}
		st.count(int64(n), 0) // every byte of the read is verified now
		echoed.Store(off)
		if errors.Is(err, io.EOF) {
			if w := wrote.Load(); off < w || have {
				return ioFailure(io.ErrUnexpectedEOF, lbl, w, off, fmt.Sprintf("%d bytes echoed, then EOF", w))
			}
			return nil
		}
		if err != nil {
			return ioFailure(err, lbl, wrote.Load(), off, "the echo")
		}
	}
}
