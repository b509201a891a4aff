package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/echoconf/echoconf/spec"
)

// state is what the workers of a run share.
type state struct {
	cfg       Config
	measuring atomic.Bool // count what happens now
	stopping  atomic.Bool // finish cleanly: no new message or connection
	bytes     atomic.Int64
	msgs      atomic.Int64
	nextConn  atomic.Uint32 // connection numbers for payload tags

	failOnce sync.Once
	failure  error
	cancel   context.CancelFunc
}

// fail records the run's first failure and stops the others.
func (st *state) fail(err error) {
	st.failOnce.Do(func() {
		st.failure = err
		st.cancel()
	})
}

// count adds verified bytes and messages while measuring.
func (st *state) count(bytes, msgs int64) {
	if st.measuring.Load() {
		if bytes != 0 {
			st.bytes.Add(bytes)
		}
		if msgs != 0 {
			st.msgs.Add(msgs)
		}
	}
}

// drive runs work on n workers: warm-up, the measured period (with
// progress), then a clean stop in which every worker verifies what is still
// in flight and the server's FIN. hists, if not nil, are the workers'
// latency histograms.
func drive(ctx context.Context, cfg Config, r *Result, n int, hists []*hdrhistogram.Histogram, work func(ctx context.Context, i int, st *state) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &state{cfg: cfg, cancel: cancel}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := work(ctx, i, st); err != nil && ctx.Err() == nil {
				st.fail(err)
			}
		})
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	wait := func(d time.Duration) bool { // false if the run ended early
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		case <-finished:
			return false
		}
	}
	if cfg.Warmup > 0 && !wait(cfg.Warmup) {
		return st.end(ctx, finished)
	}
	for _, h := range hists {
		h.Reset() // warm-up messages may still be recorded: a bound on error of one message per worker
	}
	w := startWindow()
	st.measuring.Store(true)
	end := time.Now().Add(cfg.Duration)
	for left := time.Until(end); left > 0; left = time.Until(end) {
		if !wait(min(left, time.Second)) {
			return st.end(ctx, finished)
		}
		if cfg.Progress != nil {
			cfg.Progress(Progress{Mode: cfg.Mode, Elapsed: time.Since(w.start), Duration: cfg.Duration, Bytes: st.bytes.Load(), Messages: st.msgs.Load()})
		}
	}
	st.measuring.Store(false)
	w.stop(r)
	r.Bytes, r.Messages = st.bytes.Load(), st.msgs.Load()
	st.stopping.Store(true)
	if err := st.end(ctx, finished); err != nil {
		return err
	}
	if hists != nil {
		r.Latency = summarise(hists)
	}
	return nil
}

// end waits for the workers and returns the run's failure, or ctx's error.
func (st *state) end(ctx context.Context, finished <-chan struct{}) error {
	select {
	case <-finished:
	case <-ctx.Done():
		<-finished // every connection is closed on ctx's end
	}
	if st.failure != nil {
		return st.failure
	}
	return ctx.Err()
}

// dial connects to the server, closing the connection when ctx ends.
func dial(ctx context.Context, st *state, label string) (*net.TCPConn, func(), error) {
	d := net.Dialer{Timeout: st.cfg.Timeout}
	c, err := d.DialContext(ctx, "tcp", st.cfg.Addr)
	if err != nil {
		return nil, nil, ioFailure(err, label, 0, 0, "a connection")
	}
	tc := c.(*net.TCPConn)
	stop := context.AfterFunc(ctx, func() { _ = tc.Close() })
	return tc, func() { stop(); _ = tc.Close() }, nil
}

// ioFailure describes a failed connect, read or write the way the checks
// do.
func ioFailure(err error, label string, sent, recv int64, expected string) *spec.Failure {
	f := &spec.Failure{Conn: label, Sent: sent, Received: recv, Offset: -1, Expected: expected, Err: err}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		f.Kind, f.Ending = spec.KindTimeout, spec.EventTimeout
		f.Actual = fmt.Sprintf("no progress after %d bytes", recv)
	case errors.Is(err, syscall.ECONNREFUSED):
		f.Kind, f.Ending = spec.KindRefused, spec.EventRefused
		f.Actual = "connection refused"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		f.Kind, f.Ending = spec.KindEarlyEOF, spec.EventEOF
		f.Actual = fmt.Sprintf("%d bytes then EOF", recv)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		f.Kind, f.Ending = spec.KindReset, spec.EventReset
		f.Actual = fmt.Sprintf("%d bytes then reset", recv)
	default:
		f.Kind, f.Ending = spec.KindReset, spec.EventNone
		f.Actual = fmt.Sprintf("%d bytes then %v", recv, err)
	}
	return f
}

// resetFirst returns the reader's failure rerr, as a reset when it is an
// early EOF and the writer's failure werr is ECONNRESET. The kernel reports
// a reset to one system call only, whichever comes first; a read after it
// returns EOF. ECONNRESET (not EPIPE, which follows a FIN) means the RST
// came before any FIN, so the server reset the connection.
func resetFirst(rerr, werr error) error {
	var f *spec.Failure
	if !errors.As(rerr, &f) || f.Kind != spec.KindEarlyEOF || !errors.Is(werr, syscall.ECONNRESET) {
		return rerr
	}
	f.Kind, f.Ending, f.Err = spec.KindReset, spec.EventReset, werr
	if wf := (*spec.Failure)(nil); errors.As(werr, &wf) {
		f.Err = wf.Err
	}
	f.Actual = fmt.Sprintf("%d bytes then reset", f.Received)
	return f
}

// label names connection i of n in a diagnosis.
func label(i, n int) string { return fmt.Sprintf("client %d of %d", i+1, n) }

// deadline arms d on c for the next I/O.
func deadline(set func(time.Time) error, st *state) error {
	return set(time.Now().Add(st.cfg.Timeout))
}

// rearmer keeps a deadline for the next I/O of a busy loop between
// Timeout and 9/8 of it away, re-arming it at most once per Timeout/8: a
// run fails after at least Timeout without progress, as documented, but a
// loop of small writes does not pay a timer update per write.
type rearmer struct {
	set     func(time.Time) error
	timeout time.Duration
	at      time.Time // when the deadline was last set; zero before
}

func newRearmer(set func(time.Time) error, st *state) *rearmer {
	return &rearmer{set: set, timeout: st.cfg.Timeout}
}

// arm makes sure the deadline is at least Timeout from now.
func (r *rearmer) arm() error {
	now := time.Now()
	if !r.at.IsZero() && now.Sub(r.at) < r.timeout/8 {
		return nil
	}
	r.at = now
	return r.set(now.Add(r.timeout + r.timeout/8))
}

// expired makes the next arm set a new deadline: the last one passed.
func (r *rearmer) expired() { r.at = time.Time{} }

// expectEOF half-closes c and reads until the server's FIN; any byte is
// extra.
func expectEOF(c *net.TCPConn, es *spec.EchoStream, st *state, lbl string, sent int64) error {
	if err := c.CloseWrite(); err != nil {
		return ioFailure(err, lbl, sent, sent, "a half-close")
	}
	buf := make([]byte, 4096)
	for {
		if err := deadline(c.SetReadDeadline, st); err != nil {
			return ioFailure(err, lbl, sent, sent, "the server's FIN")
		}
		n, err := c.Read(buf)
		if n > 0 {
			return es.Extra(buf[:n], sent)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			f := ioFailure(err, lbl, sent, sent, "the server's FIN after the echo")
			if f.Kind == spec.KindTimeout {
				f.Kind = spec.KindNoEOF
			}
			return f
		}
	}
}
