package spec_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/echoconf/echoconf/spec"
)

// fakeServer is a small in-test echo server whose behaviour (correct or
// faulty) is a handler. Close stops it and waits for every handler.
type fakeServer struct {
	ln      net.Listener
	handler func(s *fakeServer, c net.Conn)
	// iterative serves one connection at a time, in the accept loop.
	iterative bool
	// maxAccepts, when positive, stops accepting after that many
	// connections (the listener stays open, as when accept fails with EMFILE).
	maxAccepts int

	done chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]bool
	accepted int
	finished int
	died     string
	shared   map[string]any // state shared between connections (cross-talk)
}

// startFake starts a fake server on 127.0.0.1 and a free port; it is closed
// when the spec ends.
func startFake(handler func(*fakeServer, net.Conn), opts ...func(*fakeServer)) *fakeServer {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		Fail("listen: " + err.Error())
	}
	s := &fakeServer{ln: ln, handler: handler, done: make(chan struct{}), conns: map[net.Conn]bool{}, shared: map[string]any{}}
	for _, o := range opts {
		o(s)
	}
	s.wg.Add(1)
	go s.serve()
	DeferCleanup(s.Close)
	return s
}

func iterative(s *fakeServer) { s.iterative = true }

func maxAccepts(n int) func(*fakeServer) { return func(s *fakeServer) { s.maxAccepts = n } }

func (s *fakeServer) serve() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		full := s.maxAccepts > 0 && s.accepted >= s.maxAccepts
		s.mu.Unlock()
		if full {
			<-s.done
			return
		}
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.accepted++
		s.conns[c] = true
		s.mu.Unlock()
		if s.iterative {
			s.run(c)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(c)
		}()
	}
}

func (s *fakeServer) run(c net.Conn) {
	defer func() {
		_ = c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.finished++
		s.mu.Unlock()
	}()
	s.handler(s, c)
}

// die simulates the server process ending: it stops listening and drops
// every connection.
func (s *fakeServer) die(how string) {
	_ = s.ln.Close()
	s.mu.Lock()
	if s.died == "" {
		s.died = how
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
}

// Close stops the server and waits for its goroutines.
func (s *fakeServer) Close() {
	s.mu.Lock()
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.mu.Unlock()
	s.die("")
	s.wg.Wait()
}

func (s *fakeServer) counts() (accepted, finished, open int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted, s.finished, len(s.conns)
}

// env returns an Env that dials the fake at the given scale.
func (s *fakeServer) env(scale float64) *spec.Env {
	return dialEnv(s.ln.Addr().String(), scale)
}

func dialEnv(addr string, scale float64) *spec.Env {
	return &spec.Env{
		Dial: func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
		Scale: scale,
		Seed:  0x5eed,
	}
}

// fakeProcess is a spec.Process over a fake server: fds and zombies are
// computed from its connection counts.
type fakeProcess struct {
	s       *fakeServer
	fds     func(accepted, finished, open int) int
	zombies func(accepted, finished, open int) int
}

func (p *fakeProcess) PID() int { return 4242 }

func (p *fakeProcess) Exited() (bool, string) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.s.died != "", p.s.died
}

func (p *fakeProcess) OpenFDs() (int, error) {
	if dead, _ := p.Exited(); dead {
		return 0, errors.New("no such process")
	}
	return p.fds(p.s.counts()), nil
}

func (p *fakeProcess) Deaths() []string { return nil }

func (p *fakeProcess) Zombies() (int, error) {
	if dead, _ := p.Exited(); dead {
		return 0, errors.New("no such process")
	}
	return p.zombies(p.s.counts()), nil
}

// healthyProcess closes every descriptor and reaps every child.
func healthyProcess(s *fakeServer) *fakeProcess {
	return &fakeProcess{s: s,
		fds:     func(_, _, open int) int { return 4 + open },
		zombies: func(_, _, _ int) int { return 0 },
	}
}

// leakyProcess keeps a descriptor and a zombie per finished connection.
func leakyProcess(s *fakeServer) *fakeProcess {
	return &fakeProcess{s: s,
		fds:     func(accepted, _, _ int) int { return 4 + accepted },
		zombies: func(_, finished, _ int) int { return finished },
	}
}

// leakingProcess keeps a descriptor for each of the first n connections it
// accepts, and reaps every child.
func leakingProcess(n int) func(*fakeServer) *fakeProcess {
	return func(s *fakeServer) *fakeProcess {
		return &fakeProcess{s: s,
			fds:     func(accepted, _, open int) int { return 4 + open + min(accepted, n) },
			zombies: func(_, _, _ int) int { return 0 },
		}
	}
}

// The handlers. Each reads with a small buffer so that large payloads take
// many reads, as a C server's would.

const fakeBuf = 4096

// echoCorrect echoes every read in full and closes at EOF.
func echoCorrect(_ *fakeServer, c net.Conn) {
	_, _ = io.CopyBuffer(c, c, make([]byte, fakeBuf))
}

// echoChunky is correct but writes each read back in pieces of varying
// sizes, sometimes after a short pause: odd timing must not be failed.
func echoChunky(_ *fakeServer, c net.Conn) {
	buf := make([]byte, fakeBuf)
	for i := 0; ; i++ {
		n, err := c.Read(buf)
		for off := 0; off < n; {
			k := min(n-off, 1+(i*131+off)%1500)
			if _, werr := c.Write(buf[off : off+k]); werr != nil {
				return
			}
			off += k
		}
		if i%97 == 0 {
			time.Sleep(time.Millisecond) // part of the fault model: a slow server
		}
		if err != nil {
			return
		}
	}
}

// perRead applies f to every read and writes what f returns; it closes at
// EOF.
func perRead(f func(i int, b []byte) []byte) func(*fakeServer, net.Conn) {
	return func(_ *fakeServer, c net.Conn) {
		buf := make([]byte, fakeBuf)
		for i := 0; ; i++ {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(f(i, buf[:n])); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
}

var (
	echoUpper      = perRead(func(_ int, b []byte) []byte { return bytes.ToUpper(b) })
	echoAppendLF   = perRead(func(_ int, b []byte) []byte { return append(b, '\n') })
	echoDropLast   = perRead(func(_ int, b []byte) []byte { return b[:len(b)-1] })
	echoDuplicated = perRead(func(_ int, b []byte) []byte { return append(b, b...) })
	echoCString    = perRead(func(_ int, b []byte) []byte {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return b[:i]
		}
		return b
	})
	echoFirstRead = perRead(func(i int, b []byte) []byte {
		if i == 0 {
			return b
		}
		return nil
	})
)

// echoFirstReadLate echoes only its first read, which it makes only after
// lateRead: part of the fault model, a server that a busy machine runs
// late, by when every paused write of partial/paused-writes has arrived.
func echoFirstReadLate(s *fakeServer, c net.Conn) {
	time.Sleep(lateRead)
	echoFirstRead(s, c)
}

// lateRead is longer than partial/paused-writes' seven writes and pauses
// (280 ms), and shorter than its lockstep wait at faultScale (500 ms).
const lateRead = 400 * time.Millisecond

// echoReordered swaps every pair of reads.
func echoReordered(_ *fakeServer, c net.Conn) {
	buf := make([]byte, fakeBuf)
	var held []byte
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if held == nil {
				held = append([]byte(nil), buf[:n]...)
			} else {
				if _, werr := c.Write(append(buf[:n:n], held...)); werr != nil {
					return
				}
				held = nil
			}
		}
		if err != nil {
			_, _ = c.Write(held)
			return
		}
	}
}

// echoCloseAfterOne echoes the first read, then closes.
func echoCloseAfterOne(_ *fakeServer, c net.Conn) {
	buf := make([]byte, fakeBuf)
	n, _ := c.Read(buf)
	_, _ = c.Write(buf[:n])
	_ = c.(*net.TCPConn).CloseWrite()
	_, _ = io.Copy(io.Discard, c) // the FIN, not a reset: the test wants early EOF
}

// echoLines echoes whole lines only.
func echoLines(_ *fakeServer, c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadBytes('\n')
		if _, werr := c.Write(line); werr != nil || err != nil {
			return
		}
	}
}

// echoAtEOF echoes nothing until EOF, then everything.
func echoAtEOF(_ *fakeServer, c net.Conn) {
	all, _ := io.ReadAll(c)
	_, _ = c.Write(all)
}

// echoTruncated echoes the first 1000 bytes, then discards the rest.
func echoTruncated(_ *fakeServer, c net.Conn) {
	_, _ = io.CopyN(c, c, 1000)
	_, _ = io.Copy(io.Discard, c)
}

// echoNoFIN echoes until EOF, then keeps the connection open until the
// server stops.
func echoNoFIN(s *fakeServer, c net.Conn) {
	_, _ = io.CopyBuffer(c, c, make([]byte, fakeBuf))
	<-s.done
}

// echoRSTAtEOF echoes until EOF, then resets.
func echoRSTAtEOF(_ *fakeServer, c net.Conn) {
	_, _ = io.CopyBuffer(c, c, make([]byte, fakeBuf))
	_ = c.(*net.TCPConn).SetLinger(0)
}

// echoHoldLast echoes each read only when the next one arrives, and drops
// the last read at EOF: it closes before echoing pending data.
func echoHoldLast(_ *fakeServer, c net.Conn) {
	buf := make([]byte, fakeBuf)
	var held []byte
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(held); werr != nil {
				return
			}
			held = append(held[:0], buf[:n]...)
		}
		if err != nil {
			return
		}
	}
}

// echoHeadOfLine writes under one lock shared by every connection, so a
// client that does not read blocks all the others.
func echoHeadOfLine(s *fakeServer, c net.Conn) {
	s.mu.Lock()
	lock, _ := s.shared["lock"].(*sync.Mutex)
	if lock == nil {
		lock = &sync.Mutex{}
		s.shared["lock"] = lock
	}
	s.mu.Unlock()
	buf := make([]byte, fakeBuf)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			lock.Lock()
			_, werr := c.Write(buf[:n])
			lock.Unlock()
			if werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// echoCrossed pairs connections in accept order (1 with 2, 3 with 4, ...)
// and sends each one's data to its partner.
func echoCrossed(s *fakeServer, c net.Conn) {
	type pair struct {
		first  net.Conn
		second chan net.Conn
	}
	var other net.Conn
	s.mu.Lock()
	if p, ok := s.shared["pair"].(*pair); ok {
		delete(s.shared, "pair")
		s.mu.Unlock()
		p.second <- c
		other = p.first
	} else {
		p := &pair{first: c, second: make(chan net.Conn, 1)}
		s.shared["pair"] = p
		s.mu.Unlock()
		select {
		case other = <-p.second:
		case <-s.done:
			return
		}
	}
	_, _ = io.CopyBuffer(other, c, make([]byte, fakeBuf))
}

// echoGreeting greets, then echoes correctly.
func echoGreeting(s *fakeServer, c net.Conn) {
	if _, err := c.Write([]byte("220 Welcome to my echo server\r\n")); err != nil {
		return
	}
	echoCorrect(s, c)
}

// silent accepts and never reads or writes.
func silent(s *fakeServer, c net.Conn) { <-s.done }

// flood sends without being asked until the connection fails.
func flood(_ *fakeServer, c net.Conn) {
	b := bytes.Repeat([]byte("flood!\n"), 9000)
	for {
		if _, err := c.Write(b); err != nil {
			return
		}
	}
}

// dieOnReset echoes, and "dies" (stops listening, drops everyone) when a
// write fails because a client went away, as a server killed by SIGPIPE.
func dieOnReset(s *fakeServer, c net.Conn) {
	buf := make([]byte, fakeBuf)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				s.die("signal: broken pipe")
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.die("signal: broken pipe")
			}
			return
		}
	}
}

// echoToupper upper-cases ASCII letters, as C's toupper() does: every other
// byte is echoed unchanged and the length is kept.
var echoToupper = perRead(func(_ int, b []byte) []byte {
	for i, x := range b {
		if x >= 'a' && x <= 'z' {
			b[i] = x - 'a' + 'A'
		}
	}
	return b
})

// dieOnEPIPE echoes each read and stops at the first error, as a C server
// does that checks its calls; but a write that fails with EPIPE, where C
// would get SIGPIPE, kills the whole server. A reset alone gives the first
// write ECONNRESET, which it survives.
func dieOnEPIPE(s *fakeServer, c net.Conn) {
	buf := make([]byte, fakeBuf)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				if errors.Is(werr, syscall.EPIPE) {
					s.die("signal: broken pipe")
				}
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// slowChunk and slowPause make echoSlow echo about 100 KB/s.
const (
	slowChunk = 1024
	slowPause = 10 * time.Millisecond
)

// echoSlow is correct but slow: it echoes at most slowChunk bytes per
// slowPause.
func echoSlow(_ *fakeServer, c net.Conn) {
	buf := make([]byte, slowChunk)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
			time.Sleep(slowPause) // the fault under test: slowness
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = c.(*net.TCPConn).CloseWrite()
			}
			return
		}
	}
}

// stallOn echoes correctly, except that the connections whose 1-based
// numbers are listed get no answer: as if the machine had stalled the
// server for them.
func stallOn(numbers ...int) func(*fakeServer, net.Conn) {
	var n atomic.Int64
	return func(s *fakeServer, c net.Conn) {
		if slices.Contains(numbers, int(n.Add(1))) {
			silent(s, c)
			return
		}
		echoCorrect(s, c)
	}
}
