package spec

import (
	"context"
	"sync/atomic"
	"time"
)

// lockstep lets an exchange's writer wait, before each write, for the echo
// of what it has sent so far (xfer.lockstep). A pause between writes is
// the stimulus of a check such as partial/paused-writes: each write should
// reach the server on its own. On a busy machine a server may not run for
// longer than the pause, and then finds several writes in one read, which
// hides a server that echoes only its first read. Waiting for the echo
// keeps the writes apart whatever the scheduler does.
//
// The wait is bounded. The first wait that times out ends the lockstep for
// the rest of the exchange: the server holds data back (a fault that other
// checks name), and the writer goes on with plain pauses, as it would
// without lockstep.
type lockstep struct {
	base   int64        // the stream offset where the exchange's payload starts
	echoed atomic.Int64 // the stream offset the reader has verified up to
	tick   chan struct{}
	bound  time.Duration // the longest wait for one echo
	off    bool          // a wait timed out; written by the writer only
}

func newLockstep(base int64, bound time.Duration) *lockstep {
	l := &lockstep{base: base, tick: make(chan struct{}, 1), bound: bound}
	l.echoed.Store(base)
	return l
}

// noteEcho records that the echo has been verified up to the stream
// offset received. It never blocks the reader.
func (l *lockstep) noteEcho(received int64) {
	l.echoed.Store(received)
	select {
	case l.tick <- struct{}{}:
	default:
	}
}

// await waits until the echo has caught up with sent bytes of the payload,
// for at most the bound. It reports false only when ctx ended or stop was
// closed; a timeout turns the lockstep off and reports true.
func (l *lockstep) await(ctx context.Context, sent int64, stop <-chan struct{}) bool {
	if l.off {
		return true
	}
	t := time.NewTimer(l.bound)
	defer t.Stop()
	for range 1 << 20 { // each round consumes a read's token; bounded by the timer too
		if l.echoed.Load() >= l.base+sent {
			return true
		}
		select {
		case <-l.tick:
		case <-t.C:
			l.off = true
			return true
		case <-ctx.Done():
			return false
		case <-stop:
			return false
		}
	}
	return true
}
