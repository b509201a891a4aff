package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/echoconf/echoconf/spec"
)

func runPingPong(ctx context.Context, cfg Config, r *Result) error {
	hists := newHistograms(cfg.Conns)
	return drive(ctx, cfg, r, cfg.Conns, hists, func(ctx context.Context, i int, st *state) error {
		return pingPongConn(ctx, i, st, hists[i])
	})
}

// pingPongConn keeps Depth messages in flight on connection i: each echo
// is verified, timed from the start of its message's write, and answered
// with the next message. Messages are consecutive slices of the
// connection's stream.
func pingPongConn(ctx context.Context, i int, st *state, h *hdrhistogram.Histogram) error {
	cfg := st.cfg
	lbl := label(i, cfg.Conns)
	es := spec.NewEchoStream(cfg.Seed, uint32(i), lbl)
	c, closeConn, err := dial(ctx, st, lbl)
	if err != nil {
		return err
	}
	defer closeConn()
	msgs := make([][]byte, cfg.Depth)
	began := make([]time.Time, cfg.Depth)
	got := make([]byte, cfg.Size)
	var sent, recv int64
	wdl, rdl := newRearmer(c.SetWriteDeadline, st), newRearmer(c.SetReadDeadline, st)
	send := func(k int) error {
		es.Fill(msgs[k], sent)
		if err := wdl.arm(); err != nil {
			return ioFailure(err, lbl, sent, recv, "the server to read")
		}
		began[k] = time.Now()
		n, err := c.Write(msgs[k])
		sent += int64(n)
		if err != nil {
			return ioFailure(err, lbl, sent, recv, "the server to read")
		}
		return nil
	}
	for k := range msgs {
		msgs[k] = make([]byte, cfg.Size)
		if err := send(k); err != nil {
			return err
		}
	}
	inFlight := cfg.Depth
	for k := 0; inFlight > 0; k = (k + 1) % cfg.Depth {
		if err := rdl.arm(); err != nil {
			return ioFailure(err, lbl, sent, recv, "the echo")
		}
		n, err := io.ReadFull(c, got)
		if !bytes.Equal(got[:n], msgs[k][:n]) {
			return es.Verify(got[:n], recv, sent, nil)
		}
		if err != nil {
			return ioFailure(err, lbl, sent, recv+int64(n), fmt.Sprintf("%d bytes echoed", sent))
		}
		recv += int64(n)
		if st.measuring.Load() {
			record(h, time.Since(began[k]))
			st.count(int64(n), 1)
		}
		inFlight--
		if !st.stopping.Load() {
			if err := send(k); err != nil {
				return err
			}
			inFlight++
		}
	}
	return expectEOF(c, es, st, lbl, sent)
}
