package spec

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Time limits at scale 1; every one is stretched by Env.Scaled. They bound how
// long the client waits for the server to make progress, never how fast a
// correct server must be: a server fails only when nothing at all happens
// for a whole limit.
const (
	// idleTimeout is how long a connection may make no progress (no byte
	// echoed, no byte accepted for sending, no FIN) before the check gives
	// up. It is what "promptly" means.
	idleTimeout = 3 * time.Second
	// dialTimeout bounds one connect, long enough for two SYN retries when
	// a busy server's accept queue overflows.
	dialTimeout = 5 * time.Second
	// drainTimeout is how long a check listens, after the echo is complete
	// and the client has half-closed, for extra bytes. It does not judge the
	// server's FIN; the halfclose checks do.
	drainTimeout = 500 * time.Millisecond
	// captureTimeout bounds how long the reader keeps collecting bytes after
	// the first difference, for the diagnosis.
	captureTimeout = 250 * time.Millisecond
	// stallQuiet is how long a writer that holds back the reader
	// (xfer.holdReads) may complete no write before the reader starts
	// anyway: the socket buffers on both sides are full by then. It only
	// delays reading, so a loaded machine can make the stall shorter (a
	// less searching check), never fail a correct server.
	stallQuiet = 250 * time.Millisecond
)

const (
	// tailLimit caps the bytes kept after the first difference.
	tailLimit = 64 << 10
	// maxBuf is the largest read or write buffer of one connection.
	maxBuf = 64 << 10
	// inlineWrite is the largest payload written before reading, without a
	// writer goroutine: it always fits in the socket buffers, so it cannot
	// deadlock against a correct server.
	inlineWrite = 4 << 10
	// trickle is the read size below which the reader, with more to come,
	// lets tricklePause pass before it reads again: a server that writes
	// a byte at a time would otherwise cost the client a wakeup per byte,
	// and on a busy machine take the CPU it needs to echo. The pause
	// delays the reading of bytes that have already arrived, never judges
	// them.
	trickle      = 1024
	tricklePause = time.Millisecond
)

// endMode says what an exchange does after the whole echo has arrived.
type endMode int

const (
	// endOpen leaves the connection open for another round.
	endOpen endMode = iota
	// endDrain half-closes and fails only if bytes arrive that were never
	// sent; a missing or late FIN is not judged.
	endDrain
	// endEOF half-closes right after the last write (with data still in
	// flight) and requires the server's FIN after the echo.
	endEOF
)

// xfer describes how one payload is written and read back.
type xfer struct {
	chunks    []int         // write sizes, cycled; nil writes up to maxBuf at once
	pause     time.Duration // pause between writes (the stimulus, not a synchronisation)
	bite      int           // read at most this many bytes per read; 0 means no limit
	readPause time.Duration // pause between reads (a slow reader)
	holdReads bool          // read nothing until the writer is done or stalled
	end       endMode
	// budget, scaled, bounds how long a large exchange verifies before it
	// stops with what it has (see budget.go); 0 means no budget.
	budget time.Duration
	// lockstep, scaled, is how long the writer waits, before each write
	// after the first, for the echo of what it sent (see lockstep.go);
	// 0 writes without waiting.
	lockstep time.Duration
}

// errStopped reports that the writer was told to stop because the reader
// had already failed.
var errStopped = errors.New("writer stopped")

// echoConn is one client connection of a check, with the expected echo
// stream and the byte counts a Failure reports.
//
// An echoConn is used by one goroutine at a time, except that exchange runs
// its writer in a second goroutine that it joins before returning.
type echoConn struct {
	env   *Env
	seed  uint64
	conn  net.Conn
	label string // "client 3 of 100"; empty for a check's only connection
	round int    // 1-based round for the failure's Conn; 0 when unused

	sent, received int64
	// step is the running exchange's lockstep, or nil; the reader reports
	// its progress to it.
	step       *lockstep
	want       stream
	halfClosed bool

	rbuf, ebuf, wbuf []byte
	stopWatch        func()
	// started is when the current exchange began; budgetSpent records
	// that it ended on its budget (see budget.go).
	started     time.Time
	budgetSpent bool
	// graces counts the idle periods added to the current wait because
	// the machine's CPUs were saturated (see pressure.go).
	graces int
	// lineHinted records that a failure was already explained by the
	// line probe (lineHint).
	lineHinted bool
}

// dial opens a connection for a check, closed on ctx's end. label names it
// in failures.
func (p *probe) dial(ctx context.Context, label string) (*echoConn, *Failure) {
	conn, err := p.dialOnce(ctx)
	// A connect that timed out while the machine's CPUs were saturated is
	// tried again (see pressure.go): the server may not have run.
	for graces := 0; err != nil && graces < maxGraces && ctx.Err() == nil && isTimeout(err) && cpuStarved(); graces++ {
		conn, err = p.dialOnce(ctx)
	}
	if err != nil {
		return nil, p.dialFailure(ctx, label, err)
	}
	c := &echoConn{env: p.env, seed: p.env.Seed, conn: conn, label: label}
	c.stopWatch = closeOnDone(ctx, conn)
	return c, nil
}

// dialOnce makes one connection attempt, bounded by dialTimeout.
func (p *probe) dialOnce(ctx context.Context) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, p.env.Scaled(dialTimeout))
	defer cancel()
	return p.env.Dial(dctx)
}

// isTimeout reports whether err is a connect or I/O timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// closeOnDone closes conn when ctx ends, unblocking any I/O on it. The
// returned stop function ends the watcher and waits for it.
func closeOnDone(ctx context.Context, conn io.Closer) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			_ = conn.Close() // unblocks I/O; the owner closes again and ignores the error
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

// Close closes the connection normally.
func (c *echoConn) Close() error {
	c.stopWatch()
	return c.conn.Close()
}

// abort closes the connection with a reset (SO_LINGER 0) where the
// connection supports it.
func (c *echoConn) abort() {
	if l, ok := c.conn.(interface{ SetLinger(int) error }); ok {
		_ = l.SetLinger(0) // best effort: a plain close still frees the server
	}
	_ = c.Close() // the connection is being discarded
}

// closeWrite half-closes the connection (shutdown(SHUT_WR)).
func (c *echoConn) closeWrite() error {
	cw, ok := c.conn.(interface{ CloseWrite() error })
	if !ok {
		return errors.New("half-close: the connection does not support CloseWrite")
	}
	if err := cw.CloseWrite(); err != nil {
		return err
	}
	c.halfClosed = true
	return nil
}

// setNoDelay disables Nagle's algorithm so small writes leave at once.
func (c *echoConn) setNoDelay() {
	if t, ok := c.conn.(interface{ SetNoDelay(bool) error }); ok {
		_ = t.SetNoDelay(true) // Go's default already; an error only means a non-TCP conn
	}
}

// buffers sizes the connection's buffers for an exchange of n bytes.
func (c *echoConn) buffers(n int64) {
	size := int64(4096)
	if n > size {
		size = n
	}
	if size > maxBuf {
		size = maxBuf
	}
	if int64(len(c.rbuf)) < size {
		c.rbuf = make([]byte, size)
		c.ebuf = make([]byte, size)
	}
	if int64(len(c.wbuf)) < size {
		c.wbuf = make([]byte, size)
	}
}

// idle returns the scaled progress deadline.
func (c *echoConn) idle() time.Duration { return c.env.Scaled(idleTimeout) }

// writeGate lets the reader stop the writer without racing the writer's own
// deadline updates.
type writeGate struct {
	graces   int // the writer's own grace count (see pressure.go)
	mu       sync.Mutex
	stopped  bool
	done     chan struct{}
	conn     net.Conn
	progress chan struct{} // a token after each completed write; never closed
}

func newWriteGate(conn net.Conn) *writeGate {
	return &writeGate{done: make(chan struct{}), conn: conn, progress: make(chan struct{}, 1)}
}

// grace is echoConn.grace for the writer, which runs beside the reader.
func (g *writeGate) grace() bool {
	if g.graces >= maxGraces || !cpuStarved() {
		return false
	}
	g.graces++
	return true
}

// progressed resets the writer's graces.
func (g *writeGate) progressed() { g.graces = 0 }

// advanced records that a write completed, without ever blocking the writer.
func (g *writeGate) advanced() {
	select {
	case g.progress <- struct{}{}:
	default:
	}
}

// awaitStall returns once the writer has finished (finished is closed), has
// completed no write for quiet, or ctx ends. Each completed write restarts
// the quiet period, so the wait is bounded by the payload's write count
// times quiet.
func (g *writeGate) awaitStall(ctx context.Context, finished <-chan struct{}, quiet time.Duration) {
	t := time.NewTimer(quiet)
	defer t.Stop()
	for {
		select {
		case <-g.progress:
			t.Reset(quiet)
		case <-finished:
			return
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// arm sets the next write's deadline, unless the writer was stopped.
func (g *writeGate) arm(d time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	_ = g.conn.SetWriteDeadline(time.Now().Add(d)) // fails only on a closed conn, which Write reports
	return true
}

// stop makes the writer's current and future writes fail at once.
func (g *writeGate) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopped {
		g.stopped = true
		close(g.done)
		_ = g.conn.SetWriteDeadline(time.Unix(1, 0))
	}
}

// pause waits d, or less if ctx ends or the gate is stopped. It reports
// whether the whole pause elapsed.
func pause(ctx context.Context, d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// write sends p on the connection as x describes. Every write has the
// progress deadline; it returns the first error.
func (c *echoConn) write(ctx context.Context, p payload, x xfer, g *writeGate) error {
	var off int64
	for i := 0; off < p.Len(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int64(len(c.wbuf))
		if len(x.chunks) > 0 {
			n = int64(x.chunks[i%len(x.chunks)])
		}
		if rest := p.Len() - off; n > rest {
			n = rest
		}
		if n > int64(len(c.wbuf)) {
			n = int64(len(c.wbuf))
		}
		if x.budget > 0 && x.end == endEOF && off > 0 && time.Since(c.started) > c.env.Scaled(x.budget) {
			return errBudget
		}
		if c.step != nil && off > 0 && !c.step.await(ctx, off, g.done) {
			if err := ctx.Err(); err != nil {
				return err
			}
			return errStopped
		}
		p.fill(c.wbuf[:n], off)
		if !g.arm(c.idle()) {
			return errStopped
		}
		k, err := c.conn.Write(c.wbuf[:n])
		off += int64(k)
		c.sent += int64(k)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && (k > 0 || g.grace()) {
				// Bytes were accepted within the progress deadline (a
				// slow server, not a stuck one), or the machine's CPUs
				// were saturated: write on.
				continue
			}
			return err
		}
		g.progressed()
		g.advanced()
		if x.pause > 0 && off < p.Len() && !pause(ctx, x.pause, g.done) {
			if err := ctx.Err(); err != nil {
				return err
			}
			return errStopped
		}
	}
	return nil
}

// readResult is how reading the echo ended.
type readResult struct {
	ending Event // what stopped the read early; EventNone if it completed or found a difference
	err    error
	diff   int64  // stream offset of the first wrong byte, or -1
	tail   []byte // received bytes from diff on, at most tailLimit
	// budgetSpent reports that the read stopped, with every byte so far
	// right, because the exchange's budget was spent.
	budgetSpent bool
}

var readOK = readResult{diff: -1}

// readTo reads and verifies the echo until the stream offset target.
//
// A slow reader (readPause > 0) is paced by rate, not by read: it reads at
// most bite bytes per readPause on average, and pauses only while it is
// ahead of that schedule. Pausing after every read would let a loaded
// machine (small reads, stretched timers) slow it far below the rate and
// fail a correct server on its watchdog.
func (c *echoConn) readTo(ctx context.Context, target int64, x xfer) readResult {
	start, base := time.Now(), c.received
	for c.received < target {
		if err := ctx.Err(); err != nil {
			return readResult{diff: -1, err: err}
		}
		n := int64(len(c.rbuf))
		if rest := target - c.received; n > rest {
			n = rest
		}
		if x.bite > 0 && n > int64(x.bite) {
			n = int64(x.bite)
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(c.idle())) // a closed conn shows up in Read
		k, err := c.conn.Read(c.rbuf[:n])
		if k > 0 {
			got, exp := c.rbuf[:k], c.ebuf[:k]
			c.want.fill(exp, c.received)
			if !bytes.Equal(got, exp) {
				i := firstDiff(got, exp)
				d := c.received + int64(i)
				c.received += int64(k)
				return c.capture(d, got[i:])
			}
			c.received += int64(k)
		}
		if k > 0 {
			c.progressed()
			if c.step != nil {
				c.step.noteEcho(c.received)
			}
		}
		if err != nil {
			if k == 0 && errors.Is(err, os.ErrDeadlineExceeded) && c.grace() {
				continue
			}
			return readResult{ending: endingOf(err), err: err, diff: -1}
		}
		// The budget ends an exchange only right after the echo moved.
		if x.budget > 0 && x.end != endEOF && c.received < target && time.Since(c.started) > c.env.Scaled(x.budget) {
			return readResult{diff: -1, budgetSpent: true}
		}
		if k < trickle && c.received < target && x.readPause == 0 && !pause(ctx, tricklePause, nil) {
			return readResult{diff: -1, err: ctx.Err()}
		}
		if x.readPause > 0 && x.bite > 0 && c.received < target {
			due := time.Duration(float64(c.received-base) / float64(x.bite) * float64(x.readPause))
			if ahead := due - time.Since(start); ahead > 0 && !pause(ctx, ahead, nil) {
				return readResult{diff: -1, err: ctx.Err()}
			}
		}
	}
	return readOK
}

// capture records a difference at stream offset d, whose first received
// bytes are first, and keeps reading briefly (at most tailLimit bytes, at
// most captureTimeout) so the diagnosis sees what follows.
func (c *echoConn) capture(d int64, first []byte) readResult {
	tail := make([]byte, 0, tailLimit)
	tail = append(tail, first[:min(len(first), tailLimit)]...)
	r := readResult{diff: d}
	_ = c.conn.SetReadDeadline(time.Now().Add(c.env.Scaled(captureTimeout)))
	for len(tail) < tailLimit {
		k, err := c.conn.Read(c.rbuf[:min(len(c.rbuf), tailLimit-len(tail))])
		tail = append(tail, c.rbuf[:k]...)
		c.received += int64(k)
		if err != nil {
			if ev := endingOf(err); ev != EventTimeout {
				r.ending, r.err = ev, err
			}
			break
		}
	}
	r.tail = tail
	return r
}

// listen reads after the echo is complete, for at most d: bytes are a
// difference at the end of the stream; otherwise it reports what ended the
// connection (EOF, reset, or timeout when nothing happened).
func (c *echoConn) listen(d time.Duration) readResult {
	if len(c.rbuf) == 0 {
		c.buffers(0)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	k, err := c.conn.Read(c.rbuf)
	for k == 0 && d >= c.idle() && errors.Is(err, os.ErrDeadlineExceeded) && c.grace() {
		_ = c.conn.SetReadDeadline(time.Now().Add(d))
		k, err = c.conn.Read(c.rbuf)
	}
	if k > 0 {
		at := c.received
		c.received += int64(k)
		return c.capture(at, c.rbuf[:k])
	}
	return readResult{ending: endingOf(err), err: err, diff: -1}
}

// firstDiff returns the index of the first byte where a and b differ, or
// the length of the shorter when one is a prefix of the other.
func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// endingOf classifies the error that ended a read or write.
func endingOf(err error) Event {
	switch {
	case err == nil:
		return EventNone
	case errors.Is(err, io.EOF):
		return EventEOF
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return EventReset
	case errors.Is(err, os.ErrDeadlineExceeded):
		return EventTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return EventRefused
	}
	return EventNone
}

// exchange writes p and reads its echo at the same time, then ends as x.end
// says. It returns nil when the echo was exact (and, for endEOF, followed by
// the server's FIN; for endDrain, by nothing extra). The writer goroutine is
// always joined before exchange returns.
func (c *echoConn) exchange(ctx context.Context, p payload, x xfer) *Failure {
	from := c.want.Len()
	c.want.add(p)
	target := c.want.Len()
	c.buffers(p.Len())
	c.started, c.budgetSpent = time.Now(), false

	g := newWriteGate(c.conn)
	if x.lockstep > 0 {
		c.step = newLockstep(from, c.env.Scaled(x.lockstep))
		defer func() { c.step = nil }() // after the writer is joined
	}
	var cut bool // the writer stopped on the budget, before the end of p
	write := func() error {
		err := c.write(ctx, p, x, g)
		if errors.Is(err, errBudget) {
			cut, err = true, nil
		}
		if err == nil && x.end == endEOF {
			err = c.closeWrite()
		}
		return err
	}
	var werr, asyncErr error
	var wg sync.WaitGroup
	if p.Len() <= inlineWrite && len(x.chunks) == 0 && x.pause == 0 && !x.holdReads {
		werr = write()
	} else {
		finished := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(finished)
			asyncErr = write()
		}()
		if x.holdReads {
			g.awaitStall(ctx, finished, c.env.Scaled(stallQuiet))
		}
	}
	r := readOK
	if werr == nil || endingOf(werr) == EventReset {
		r = c.readTo(ctx, target, x)
	}
	if r.diff >= 0 || r.err != nil || r.budgetSpent {
		g.stop()
	}
	wg.Wait()
	if werr == nil {
		werr = asyncErr
	}
	if errors.Is(werr, errStopped) {
		werr = nil
	}
	if r.budgetSpent && r.diff < 0 {
		c.budgetSpent = true
		return nil // every byte that came back was right, and it kept coming
	}
	if cut {
		// The stream ends where the writer stopped: the server must echo
		// that much, then close.
		c.want.truncate(c.sent)
		target = c.want.Len()
		if r.diff < 0 && c.received == target {
			if r.ending == EventEOF {
				c.budgetSpent = true
				return nil
			}
			return c.judge(ctx, obs{phase: phaseEOF, from: from, target: target, res: r})
		}
	}
	if f := c.judge(ctx, obs{phase: phaseEcho, from: from, target: target, res: r, werr: werr}); f != nil {
		if f.Kind == KindTimeout && f.Ending == EventTimeout {
			if det, ok := c.lineHint(ctx, from, target); ok {
				f.Detail = det
			}
		}
		return f
	}
	return c.finish(ctx, x.end, from)
}

// finish ends an exchange whose echo arrived in full.
func (c *echoConn) finish(ctx context.Context, end endMode, from int64) *Failure {
	switch end {
	case endDrain:
		if err := c.closeWrite(); err != nil {
			res := readResult{diff: -1, ending: endingOf(err), err: err}
			return c.judge(ctx, obs{phase: phaseDrain, from: from, target: c.want.Len(), res: res})
		}
		r := c.listen(c.env.Scaled(drainTimeout))
		if r.diff < 0 {
			return nil // EOF, reset or silence: only extra bytes count here
		}
		return c.judge(ctx, obs{phase: phaseDrain, from: from, target: c.want.Len(), res: r})
	case endEOF:
		r := c.listen(c.idle())
		if r.diff < 0 && r.ending == EventEOF {
			return nil
		}
		return c.judge(ctx, obs{phase: phaseEOF, from: from, target: c.want.Len(), res: r})
	}
	return nil
}

// send writes p without reading, for checks that write to many connections
// before reading any. p must fit in the socket buffers (inlineWrite).
func (c *echoConn) send(ctx context.Context, p payload) *Failure {
	from := c.want.Len()
	c.want.add(p)
	c.buffers(p.Len())
	g := newWriteGate(c.conn)
	if err := c.write(ctx, p, xfer{}, g); err != nil {
		res := readResult{diff: -1, ending: EventNone}
		return c.judge(ctx, obs{phase: phaseEcho, from: from, target: c.want.Len(), res: res, werr: err})
	}
	return nil
}

// recv reads and verifies everything sent so far that has not come back.
func (c *echoConn) recv(ctx context.Context, from int64) *Failure {
	r := c.readTo(ctx, c.want.Len(), xfer{})
	return c.judge(ctx, obs{phase: phaseEcho, from: from, target: c.want.Len(), res: r})
}

// fill writes p's length in bytes without reading, until the writes block
// for stall (the socket buffers on both sides are full) or all are sent. It
// reports how many bytes were sent; a write error other than blocking ends
// it early and is returned.
func (c *echoConn) fill(ctx context.Context, p payload, stall time.Duration) (int64, error) {
	c.want.add(p)
	c.buffers(p.Len())
	// The content is never read back, so one buffer of p is sent over and
	// over instead of regenerating the payload.
	n := min(int64(len(c.wbuf)), p.Len())
	p.fill(c.wbuf[:n], 0)
	before := c.sent
	for c.sent-before < p.Len() {
		if err := ctx.Err(); err != nil {
			return c.sent - before, err
		}
		m := min(n, p.Len()-(c.sent-before))
		_ = c.conn.SetWriteDeadline(time.Now().Add(stall)) // a closed conn shows up in Write
		k, err := c.conn.Write(c.wbuf[:m])
		c.sent += int64(k)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return c.sent - before, nil
			}
			return c.sent - before, err
		}
	}
	return c.sent - before, nil
}
