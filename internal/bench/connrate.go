package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/echoconf/echoconf/spec"
)

func runConnRate(ctx context.Context, cfg Config, r *Result) error {
	hists := newHistograms(cfg.Conns)
	return drive(ctx, cfg, r, cfg.Conns, hists, func(ctx context.Context, i int, st *state) error {
		msg := make([]byte, cfg.Size)
		got := make([]byte, cfg.Size)
		for !st.stopping.Load() {
			began := time.Now()
			if err := oneConnection(ctx, st, msg, got); err != nil {
				return err
			}
			if st.measuring.Load() {
				record(hists[i], time.Since(began))
				st.count(int64(cfg.Size), 1)
			}
		}
		return nil
	})
}

// oneConnection connects, echoes one message, half-closes and waits for
// the server's FIN. Every connection of the run has its own payload tag.
func oneConnection(ctx context.Context, st *state, msg, got []byte) error {
	n := st.nextConn.Add(1)
	lbl := fmt.Sprintf("connection %d", n)
	es := spec.NewEchoStream(st.cfg.Seed, n, lbl)
	c, closeConn, err := dial(ctx, st, lbl)
	if err != nil {
		return err
	}
	defer closeConn()
	es.Fill(msg, 0)
	if err := deadline(c.SetDeadline, st); err != nil {
		return ioFailure(err, lbl, 0, 0, "the server to read")
	}
	if _, err := c.Write(msg); err != nil {
		return ioFailure(err, lbl, 0, 0, "the server to read")
	}
	k, err := io.ReadFull(c, got)
	if !bytes.Equal(got[:k], msg[:k]) {
		return es.Verify(got[:k], 0, int64(len(msg)), nil)
	}
	if err != nil {
		return ioFailure(err, lbl, int64(len(msg)), int64(k), fmt.Sprintf("%d bytes echoed", len(msg)))
	}
	return expectEOF(c, es, st, lbl, int64(len(msg)))
}
