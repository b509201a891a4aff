package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/echoconf/echoconf/spec"
)

// idleBatch is how many idle connections are opened at once.
const idleBatch = 100

// afterCloseDelay is how long idle mode waits, after closing every
// connection, before it measures whether the server gave memory back.
const afterCloseDelay = 3 * time.Second

// idleConn is one held connection.
type idleConn struct {
	c     *net.TCPConn
	close func()
	es    *spec.EchoStream
	lbl   string
	off   int64
}

func runIdle(ctx context.Context, cfg Config, r *Result) error {
	st := &state{cfg: cfg, cancel: func() {}}
	var before footprint
	if cfg.ServerPID != 0 {
		warm := &idleConn{}
		if err := openIdle(ctx, st, warm, "warm-up connection", uint32(cfg.Conns), 1); err != nil {
			return err
		}
		if err := closeIdle(st, warm); err != nil {
			return err
		}
		var err error
		if before, err = measureTree(cfg.ServerPID); err != nil {
			return err
		}
	}
	conns := make([]*idleConn, cfg.Conns)
	defer func() {
		for _, ic := range conns {
			if ic != nil && ic.close != nil {
				ic.close()
			}
		}
	}()
	for from := 0; from < cfg.Conns; from += idleBatch {
		to := min(from+idleBatch, cfg.Conns)
		if err := parallel(from, to, func(i int) error {
			conns[i] = &idleConn{}
			return openIdle(ctx, st, conns[i], label(i, cfg.Conns), uint32(i), cfg.Size)
		}); err != nil {
			return err
		}
		if cfg.Progress != nil {
			cfg.Progress(Progress{Mode: cfg.Mode, Messages: int64(to), Bytes: int64(to) * int64(cfg.Size)})
		}
	}
	w := startWindow()
	t := time.NewTimer(cfg.Duration)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
	var held footprint
	if cfg.ServerPID != 0 {
		var err error
		if held, err = measureTree(cfg.ServerPID); err != nil {
			return err
		}
	}
	w.stop(r)
	// Every held connection must still echo, and then close cleanly.
	if err := parallelAll(conns, func(ic *idleConn) error {
		if err := echoOn(st, ic, 1); err != nil {
			return err
		}
		return closeIdle(st, ic)
	}); err != nil {
		return err
	}
	r.Messages = int64(cfg.Conns)
	r.Bytes = int64(cfg.Conns) * (int64(cfg.Size) + 1)
	if cfg.ServerPID != 0 {
		su := &ServerUse{PID: cfg.ServerPID, Processes: held.procs, RSSBefore: before.rss, RSSHeld: held.rss,
			FDsBefore: before.fds, FDsHeld: held.fds, AfterCloseDelay: afterCloseDelay.String()}
		su.RSSPerConn = float64(held.rss-before.rss) / float64(cfg.Conns)
		su.FDsPerConn = float64(held.fds-before.fds) / float64(cfg.Conns)
		t := time.NewTimer(afterCloseDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		after, err := measureTree(cfg.ServerPID)
		if err != nil {
			return err
		}
		su.RSSAfterClose = after.rss
		r.Server = su
	}
	return nil
}

// openIdle connects ic and echoes size bytes on it.
func openIdle(ctx context.Context, st *state, ic *idleConn, lbl string, n uint32, size int) error {
	c, closeConn, err := dial(ctx, st, lbl)
	if err != nil {
		return err
	}
	*ic = idleConn{c: c, close: closeConn, es: spec.NewEchoStream(st.cfg.Seed, n, lbl), lbl: lbl}
	if size == 0 {
		return nil
	}
	return echoOn(st, ic, size)
}

// echoOn writes the next size bytes of ic's stream while it reads and
// verifies their echo.
func echoOn(st *state, ic *idleConn, size int) error {
	msg := make([]byte, size)
	ic.es.Fill(msg, ic.off)
	if err := deadline(ic.c.SetDeadline, st); err != nil {
		return ioFailure(err, ic.lbl, ic.off, ic.off, "the echo")
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := ic.c.Write(msg)
		wrote <- err
	}()
	got := make([]byte, size)
	k, rerr := io.ReadFull(ic.c, got)
	if !bytes.Equal(got[:k], msg[:k]) {
		_ = ic.c.Close()
		<-wrote
		return ic.es.Verify(got[:k], ic.off, ic.off+int64(size), nil)
	}
	if rerr != nil {
		_ = ic.c.Close()
		<-wrote
		return ioFailure(rerr, ic.lbl, ic.off+int64(size), ic.off+int64(k), fmt.Sprintf("%d bytes echoed", ic.off+int64(size)))
	}
	if err := <-wrote; err != nil {
		return ioFailure(err, ic.lbl, ic.off, ic.off, "the server to read")
	}
	ic.off += int64(size)
	return nil
}

// closeIdle half-closes ic, expects the server's FIN and closes.
func closeIdle(st *state, ic *idleConn) error {
	defer ic.close()
	return expectEOF(ic.c, ic.es, st, ic.lbl, ic.off)
}

// parallel runs f(i) for i in [from, to) at once and returns the first error.
func parallel(from, to int, f func(i int) error) error {
	errs := make([]error, to-from)
	var wg sync.WaitGroup
	for i := from; i < to; i++ {
		wg.Go(func() { errs[i-from] = f(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// parallelAll runs f on every connection, idleBatch at a time.
func parallelAll(conns []*idleConn, f func(*idleConn) error) error {
	for from := 0; from < len(conns); from += idleBatch {
		to := min(from+idleBatch, len(conns))
		if err := parallel(from, to, func(i int) error { return f(conns[i]) }); err != nil {
			return err
		}
	}
	return nil
}
