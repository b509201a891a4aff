package spec

import (
	"context"
	"net"
	"sync"
	"time"
)

// Exchange writes payload on conn while it reads the echo back, and returns
// nil when exactly payload came back, or the Failure a check reports for
// the same bytes: its Kind, the first differing offset, hex windows, the
// Diagnosis, what ended the exchange and what to fix.
//
// Every read and write has a progress deadline (3 s without progress is a
// timeout), and ctx bounds the whole exchange. Bytes after a correct echo
// are left unread. Exchange does not close conn, and clears its deadlines
// before it returns. After a timeout it may send a newline, to tell a
// server that waits for one; conn is then of no use for another exchange.
func Exchange(ctx context.Context, conn net.Conn, payload []byte) *Failure {
	c := &echoConn{env: &Env{Scale: 1}, conn: conn}
	c.stopWatch = expireOnDone(ctx, conn)
	defer func() {
		c.stopWatch()
		_ = conn.SetDeadline(time.Time{}) // the caller's connection keeps no deadline of ours
	}()
	return c.exchange(ctx, literal(payload), xfer{})
}

// expireOnDone puts conn's deadlines in the past when ctx ends, and again
// every pollInterval until stop is called, so that no I/O outlives ctx by
// more than that, whatever deadline it was given. Unlike closeOnDone, it
// leaves conn open. stop ends the watcher and waits for it.
func expireOnDone(ctx context.Context, conn net.Conn) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		t := time.NewTicker(pollInterval)
		defer t.Stop()
		for {
			_ = conn.SetDeadline(time.Unix(1, 0)) // fails only on a closed conn, whose I/O fails anyway
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}
