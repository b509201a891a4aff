package spec

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// robustnessChecks is the robustness category, in catalogue order.
var robustnessChecks = []entry{
	robustnessResetMidEchoCheck,
	robustnessCloseWithoutReadingCheck,
	robustnessResetPendingWriteCheck,
	robustnessSequentialConnectionsCheck,
	robustnessServerAliveCheck,
	robustnessNoZombiesCheck,
	robustnessFDStableCheck,
}

// Rude clients: each writes up to rudeLimit bytes without reading, until
// its writes stall for rudeStall (the server is then blocked writing the
// echo), then leaves. Afterwards probeClients fresh clients must be served.
const (
	rudeClients  = 5
	rudeLimit    = 16 * mib
	rudeStall    = 150 * time.Millisecond
	probeClients = 3
	probeSize    = 64 << 10
	// aftermath is how long the server has to meet the rude clients'
	// ends (and die of them) before the fresh clients probe it.
	aftermath = time.Second
)

var robustnessResetMidEchoCheck = entry{
	Check: Check{
		ID:          "robustness/reset-mid-echo",
		Requirement: "Clients that send a lot and then reset do not take the server down.",
		Level:       Must,
		Timeout:     40 * time.Second,
		Schedule:    Disruptive,
	},
	test: robustnessResetMidEcho,
}

// robustnessResetMidEcho makes clients reset (SO_LINGER 0) while the server is
// echoing to them, then checks the server still serves fresh clients.
func robustnessResetMidEcho(ctx context.Context, p *probe) error {
	return rudeThenProbe(ctx, p, "sent a lot and reset", fillThen(func(i int, c *echoConn) { c.abort() }))
}

var robustnessCloseWithoutReadingCheck = entry{
	Check: Check{
		ID:          "robustness/close-without-reading",
		Requirement: "Clients that send a lot and then close without reading do not take the server down.",
		Level:       Must,
		Timeout:     40 * time.Second,
		Schedule:    Disruptive,
	},
	test: robustnessCloseWithoutReading,
}

// robustnessCloseWithoutReading makes clients close with their echo unread (some
// after a half-close), then checks the server still serves fresh clients.
func robustnessCloseWithoutReading(ctx context.Context, p *probe) error {
	return rudeThenProbe(ctx, p, "sent a lot and closed without reading", fillThen(func(i int, c *echoConn) {
		if i%2 == 1 {
			_ = c.closeWrite() // the FIN first, then the close
		}
		_ = c.Close() // leaving is the point
	}))
}

// rudeClient is what rude client i does on its connection c; it must end c.
type rudeClient func(ctx context.Context, p *probe, i int, c *echoConn)

// fillThen returns a rude client's behaviour: it writes until its writes
// stall (the server is then blocked writing the echo), then leaves.
func fillThen(leave func(int, *echoConn)) rudeClient {
	return func(ctx context.Context, p *probe, i int, c *echoConn) {
		_, _ = c.fill(ctx, p.payload(i, 1, rudeLimit), p.env.Scaled(rudeStall)) // how the server copes is measured next
		leave(i, c)
	}
}

// rudeThenProbe runs the rude clients at once, each doing rude (which must
// end its connection), then probes the server with fresh clients. how
// says what the rude clients did ("sent a lot and reset").
func rudeThenProbe(ctx context.Context, p *probe, how string, rude rudeClient) error {
	return rudeThenProbeN(ctx, p, rudeClients, how, rude)
}

// rudeThenProbeN is rudeThenProbe with n rude clients.
func rudeThenProbeN(ctx context.Context, p *probe, n int, how string, rude rudeClient) error {
	var wg sync.WaitGroup
	fails := make([]*Failure, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, f := p.dial(ctx, fmt.Sprintf("client %d of %d that %s", i+1, n, how))
			if f != nil {
				fails[i] = f
				return
			}
			rude(ctx, p, i, c)
		}()
	}
	wg.Wait()
	for _, f := range fails {
		if f != nil {
			return f
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	when := fmt.Sprintf("after %d clients %s", n, how)
	// The server meets the rude clients' ends in its own time (a busy
	// machine can delay it by much more than the probes take): the probes
	// start only after a bounded aftermath, which ends early when the
	// process is seen to die.
	if dead, how := p.ended(ctx, p.env.Scaled(aftermath)); dead {
		f := &Failure{Offset: -1, Expected: "the server process to keep running"}
		died(f, how, when)
		return f
	}
	if p.env.Process == nil && !pause(ctx, p.env.Scaled(aftermath), nil) {
		return ctx.Err()
	}
	for i := 0; i < probeClients; i++ {
		c, f := p.dial(ctx, fmt.Sprintf("fresh client %d of %d, %s", i+1, probeClients, when))
		if f == nil {
			f = c.exchange(ctx, p.payload(n+i, 1, probeSize), xfer{end: endDrain})
			_ = c.Close() // done with it either way
		}
		if f != nil {
			return p.afterAbuse(ctx, f, when)
		}
	}
	if dead, how := p.ended(ctx, 0); dead {
		f := &Failure{Offset: -1, Expected: "the server process to keep running"}
		died(f, how, when)
		return f
	}
	return nil
}

// sigpipeAdvice is the fix for the commonest way a server dies when a
// client leaves.
const sigpipeAdvice = "if it was killed by SIGPIPE when writing to a client that had gone, " +
	"ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) or write with send(..., MSG_NOSIGNAL), and " +
	"treat EPIPE and ECONNRESET from write() as the end of that client only"

// afterAbuse refines a failure seen after clients misbehaved: a dead server
// is named as such.
func (p *probe) afterAbuse(ctx context.Context, f *Failure, when string) *Failure {
	if dead, how := p.ended(ctx, p.env.Scaled(time.Second)); dead {
		died(f, how, when)
		return f
	}
	if p.env.Process == nil && f.Received == 0 && (f.Kind == KindEarlyEOF || f.Kind == KindReset) {
		// Closed at once: a dying server's last act, or a server that
		// refuses new clients? A new connection tells.
		if c, rf := p.dial(ctx, f.Conn+", dialled again"); rf != nil {
			f = rf
		} else {
			_ = c.Close() // it only had to connect
		}
	}
	switch {
	case f.Kind == KindRefused:
		f.Detail = fmt.Sprintf("the server stopped answering %s: new "+
			"connections are refused, so it probably crashed or exited; %s", when, sigpipeAdvice)
	case p.env.Process == nil && f.Kind == KindTimeout && f.Received == 0 && ctx.Err() == nil:
		f.Detail = fmt.Sprintf("the server stopped answering %s: it "+
			"accepts the connection but echoes nothing for %s; %s", when, p.env.Scaled(idleTimeout), sigpipeAdvice)
	}
	return f
}

// sequentialConnections is how many connections
// robustness/sequential-connections makes, one after the other: several
// times a typical FD limit of 256, so a leak of one descriptor per
// connection exhausts it.
const sequentialConnections = 1500

var robustnessSequentialConnectionsCheck = entry{
	Check: Check{
		ID:          "robustness/sequential-connections",
		Requirement: "At least 1500 sequential connections each get their echo and EOF.",
		Level:       Must,
		Timeout:     120 * time.Second,
		Schedule:    Alone,
	},
	test: robustnessSequentialConnections,
}

// robustnessSequentialConnections makes many short connections one after the
// other: each echoes a small tagged message and ends with the server's FIN.
func robustnessSequentialConnections(ctx context.Context, p *probe) error {
	stalls := 0
	for i := 0; i < sequentialConnections; i++ {
		label := fmt.Sprintf("connection %d of %d", i+1, sequentialConnections)
		f := p.sequentialOne(ctx, label, i, 1)
		if f != nil && i > 0 && stalls < sequentialStalls && stalled(f) && ctx.Err() == nil {
			// One silent connection among hundreds that worked is more
			// likely the machine than the server: a server that has
			// stopped serving (out of descriptors, dead, stuck) fails the
			// fresh connection too.
			stalls++
			if p.sequentialOne(ctx, label+", again on a fresh connection", i, 2) == nil {
				continue
			}
		}
		if f != nil {
			return p.sequentialFailure(ctx, f, i)
		}
	}
	return nil
}

// sequentialStalls is how many silent connections of
// robustness/sequential-connections are each tried again, once, on a fresh
// connection, before the silence fails the check.
const sequentialStalls = 2

// sequentialOne makes connection i, round r, of
// robustness/sequential-connections: echo 48 bytes, then EOF.
func (p *probe) sequentialOne(ctx context.Context, label string, i, r int) *Failure {
	c, f := p.dial(ctx, label)
	if f != nil {
		return f
	}
	f = c.exchange(ctx, p.payload(i, r, 48), xfer{end: endEOF})
	_ = c.Close() // done with it either way
	return f
}

// stalled reports whether f is a connection on which nothing came back
// before the silence deadline.
func stalled(f *Failure) bool { return f.Kind == KindTimeout && f.Received == 0 }

// sequentialFailure explains the failure of connection i (0-based) after
// i connections worked.
func (p *probe) sequentialFailure(ctx context.Context, f *Failure, i int) *Failure {
	if i == 0 || ctx.Err() != nil {
		return f
	}
	when := fmt.Sprintf("after %d connections had worked", i)
	if dead, how := p.ended(ctx, p.env.Scaled(time.Second)); dead {
		died(f, how, when)
		return f
	}
	hint := fmt.Sprintf("connections 1 to %d worked, then this one failed", i)
	if i >= 50 {
		hint += ": the server probably runs out of file descriptors because it leaks one per connection " +
			"(a fork server's parent must close the client's socket after fork) and then cannot accept"
	} else {
		hint += ": the server stops working after a few connections (does it exit " +
			"when accept() fails with EINTR after SIGCHLD? retry accept on EINTR)"
	}
	f.Detail = hint + "; " + f.Detail
	return f
}

var robustnessServerAliveCheck = entry{
	Check: Check{
		ID:          "robustness/server-alive",
		Requirement: "The server process stays alive throughout the run.",
		Level:       Must,
		Timeout:     5 * time.Second,
		Needs:       NeedsProcess,
		Schedule:    Last,
	},
	test: robustnessServerAlive,
}

// robustnessServerAlive fails when the server process has ended.
func robustnessServerAlive(ctx context.Context, p *probe) error {
	if err := needProcess(p.env); err != nil {
		return err
	}
	if deaths := p.env.Process.Deaths(); len(deaths) > 0 {
		return &Failure{Kind: KindServerDied, Offset: -1, Ending: EventExit,
			Expected: "the server to stay alive throughout the run",
			Actual:   fmt.Sprintf("it died %d time(s) and was restarted", len(deaths)),
			Detail:   strings.Join(deaths, "; ")}
	}
	if dead, how := p.env.Process.Exited(); dead {
		f := &Failure{Offset: -1, Expected: "the server process to keep running"}
		died(f, how, "during the run")
		return f
	}
	return nil
}

// Hygiene batches: complete connections, then a bounded wait for the
// server to clean up after them.
const (
	zombieBatch   = 20
	fdBatch       = 30
	hygieneSettle = 2 * time.Second
)

// fdSlack is how many more open files than before its batch
// robustness/fd-stable allows: room for files a correct server opens once
// (a log, a resolver's socket) or closes a moment late. A leak of one per
// connection leaves fdBatch more.
const fdSlack = 5

// batch makes n complete connections, one after the other: echo a small
// message, half-close, wait (bounded) for the server's FIN, close. The FIN
// is not judged here (the halfclose checks do that): once a connection has
// gone without one, later connections close without waiting for it.
func (p *probe) batch(ctx context.Context, n, first int) *Failure {
	waitFIN := true
	for i := 0; i < n; i++ {
		c, f := p.dial(ctx, fmt.Sprintf("connection %d of a batch of %d", i+1, n))
		if f == nil {
			f = c.exchange(ctx, p.payload(first+i, 1, 32), xfer{})
			if f == nil && waitFIN && c.closeWrite() == nil {
				r := c.listen(p.env.Scaled(drainTimeout))
				waitFIN = r.diff < 0 && r.ending == EventEOF
			}
			_ = c.Close() // done with it either way
		}
		if f != nil {
			f.Detail = "could not complete the batch of connections this check measures: " + f.Detail
			return f
		}
	}
	return nil
}

// settle polls measure every pollInterval for at most d until done accepts
// its value; it returns the last value. A measurement error ends it.
func settle(ctx context.Context, d time.Duration, measure func() (int, error), done func(int) bool) (int, error) {
	deadline := time.Now().Add(d)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		v, err := measure()
		if err != nil || done(v) || !time.Now().Before(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-t.C:
		}
	}
}

// processGone fails a hygiene check whose process could not be measured
// because it ended; otherwise it wraps the measurement error.
func (p *probe) processGone(err error, what string) error {
	if dead, how := p.env.Process.Exited(); dead {
		f := &Failure{Offset: -1, Expected: "the server process to keep running"}
		died(f, how, "")
		return f
	}
	return fmt.Errorf("%s: %w", what, err)
}

var robustnessNoZombiesCheck = entry{
	Check: Check{
		ID:          "robustness/no-zombies",
		Requirement: "Finished connections leave no zombie child processes.",
		Level:       Should,
		Timeout:     15 * time.Second,
		Needs:       NeedsProcess,
		Schedule:    Alone,
		Measures:    KindHygiene,
	},
	test: robustnessNoZombies,
}

// robustnessNoZombies makes a batch of connections and waits, bounded, for the
// zombie count to fall below half the batch.
func robustnessNoZombies(ctx context.Context, p *probe) error {
	if err := needProcess(p.env); err != nil {
		return err
	}
	if f := p.batch(ctx, zombieBatch, 0); f != nil {
		return f
	}
	limit := zombieBatch / 2
	wait := p.env.Scaled(hygieneSettle)
	z, err := settle(ctx, wait, p.env.Process.Zombies, func(n int) bool { return n < limit })
	if err != nil {
		return p.processGone(err, "count zombies")
	}
	if z < limit {
		return nil
	}
	return &Failure{
		Kind: KindHygiene, Offset: -1,
		Expected: fmt.Sprintf("fewer than %d zombie children %s after %d connections ended", limit, wait, zombieBatch),
		Actual:   fmt.Sprintf("%d zombie children", z),
		Detail: "the server does not reap its finished children: handle SIGCHLD and call " +
			"waitpid(-1, NULL, WNOHANG) in a loop until it returns 0, or set SIGCHLD to SIG_IGN",
	}
}

var robustnessFDStableCheck = entry{
	Check: Check{
		ID:          "robustness/fd-stable",
		Requirement: "The server's open file count does not grow with finished connections.",
		Level:       Should,
		Timeout:     15 * time.Second,
		Needs:       NeedsProcess,
		Schedule:    Alone,
		Measures:    KindHygiene,
	},
	test: robustnessFDStable,
}

// robustnessFDStable counts the server's open files, makes fdBatch complete
// connections, then waits (at most hygieneSettle, scaled) for the count to
// be at most fdSlack above where it started. It warns when it is not.
func robustnessFDStable(ctx context.Context, p *probe) error {
	if err := needProcess(p.env); err != nil {
		return err
	}
	before, err := p.env.Process.OpenFDs()
	if err != nil {
		return p.processGone(err, "count open files")
	}
	if f := p.batch(ctx, fdBatch, 0); f != nil {
		return f
	}
	limit := before + fdSlack
	wait := p.env.Scaled(hygieneSettle)
	after, err := settle(ctx, wait, p.env.Process.OpenFDs, func(n int) bool { return n <= limit })
	if err != nil {
		return p.processGone(err, "count open files")
	}
	if after <= limit {
		return nil
	}
	leak := "leaks file descriptors"
	if after-before >= fdBatch {
		leak = "leaks a file descriptor per connection"
	}
	return &Failure{
		Kind: KindHygiene, Offset: -1,
		Expected: fmt.Sprintf("at most %d open files (%d before, and at most %d more) %s after %d connections ended",
			limit, before, fdSlack, wait, fdBatch),
		Actual: fmt.Sprintf("%d open files (%d more)", after, after-before),
		Detail: fmt.Sprintf("%d connections ended and %d more files stayed open, where at most %d may: the server %s; "+
			"close() every client socket when its connection ends, and in a fork server also close it in the parent "+
			"right after fork()", fdBatch, after-before, fdSlack, leak),
	}
}
