package impl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close.
var ErrServerClosed = errors.New("impl: server closed")

// A Server echoes every connection it accepts, following the semantics in
// the package documentation. Create one with NewServer; its methods are safe
// for concurrent use.
type Server struct {
	cfg  Config
	pool sync.Pool     // *[]byte of cfg.BufferSize
	sem  chan struct{} // one token per connection served; nil if unbounded
	exe  string        // ModelProcess: the executable children run
	env  []string      // ModelProcess: the children's environment

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*tracked]struct{}
	stopping  bool          // Shutdown or Close began: accept nothing more
	forced    bool          // connections in progress are being closed
	done      chan struct{} // closed when stopping becomes true

	serving sync.WaitGroup // Serve loops
	handing sync.WaitGroup // connections in progress
	active  atomic.Int64

	children   map[int]*tracked // ModelProcess: running children by pid
	reaperOnce sync.Once
	rescan     chan struct{}  // wakes the reaper after a child is recorded
	spawnSlots chan struct{}  // ModelProcess: connections waiting for their child
	reaping    sync.WaitGroup // the reaper goroutine
	quiet      *time.Timer    // the janitor's timer
	janitor    memoryJanitor
}

// tracked is one connection in progress, as Shutdown needs to end it.
type tracked struct {
	conn net.Conn // closed to end a goroutine-model connection
	pid  int      // killed to end a process-model connection (0 = none yet)
}

// abort ends t at once. Callers hold s.mu, under which children are
// reaped, so pid still names t's child.
func (t *tracked) abort() {
	if t.pid > 0 {
		_ = syscall.Kill(t.pid, syscall.SIGKILL)
	}
	_ = t.conn.Close() // closing twice is harmless
}

// NewServer validates cfg and returns a Server that is not yet serving.
// ModelProcess fails unless this program called RunChildIfRequested first,
// since its children would otherwise run the program's main.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*tracked]struct{}),
		done:      make(chan struct{}),
		children:  make(map[int]*tracked),
	}
	size := cfg.BufferSize
	s.pool.New = func() any {
		b := make([]byte, size)
		return &b
	}
	if cfg.MaxConns > 0 {
		s.sem = make(chan struct{}, cfg.MaxConns)
	}
	if cfg.Model == ModelProcess {
		if s.exe, s.env, err = childCommand(cfg); err != nil {
			return nil, err
		}
		if _, err := openDevNull(); err != nil {
			return nil, fmt.Errorf("process model: %w", err)
		}
		s.spawnSlots = make(chan struct{}, spawnSlots())
	}
	return s, nil
}

// Config returns the server's configuration with defaults applied.
func (s *Server) Config() Config { return s.cfg }

// ActiveConns returns the number of connections being served now.
func (s *Server) ActiveConns() int { return int(s.active.Load()) }

// ListenAndServe listens on Config.Addr and serves it as Serve does.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln and echoes each one until Shutdown or
// Close, then returns ErrServerClosed. It returns another error only when
// ln fails in a way that retrying cannot cure; EMFILE, ENFILE, ENOBUFS and
// ENOMEM are retried with exponential backoff from 5ms to 1s. Serve always
// closes ln. With MaxConns set it does not call Accept while MaxConns
// connections are in progress.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.serving.Add(1)
	s.startJanitor()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		_ = ln.Close()
		s.serving.Done()
	}()
	return s.acceptLoop(ln)
}

// track registers c as in progress, or reports false if the server is
// stopping and c must not be served.
func (s *Server) track(c net.Conn) (*tracked, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil, false
	}
	t := &tracked{conn: c}
	s.conns[t] = struct{}{}
	s.handing.Add(1)
	s.active.Add(1)
	return t, true
}

// finish ends t's bookkeeping: the count drops before the slot is freed,
// so ActiveConns never exceeds MaxConns.
func (s *Server) finish(t *tracked) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finishLocked(t)
}

func (s *Server) finishLocked(t *tracked) {
	_ = t.conn.Close()
	delete(s.conns, t)
	s.janitor.ended.Add(1)
	s.active.Add(-1)
	s.release()
	s.handing.Done()
}

// handle serves one accepted connection in the goroutine model.
func (s *Server) handle(t *tracked) {
	defer s.finish(t)
	// A failed echo is the client's doing (reset, timeout): nothing to log.
	_ = echo(t.conn, echoOptions{
		idle:   s.cfg.IdleTimeout,
		splice: s.cfg.Splice,
		getBuf: s.getBuf,
		putBuf: s.putBuf,
	})
}

func (s *Server) getBuf() *[]byte {
	s.janitor.lent.Add(1)
	s.janitor.held.Add(1)
	return s.pool.Get().(*[]byte)
}

func (s *Server) putBuf(b *[]byte) {
	s.pool.Put(b)
	s.janitor.held.Add(-1)
}

// acquire takes a connection slot, or reports false if the server stops
// first. It never blocks without MaxConns.
func (s *Server) acquire() bool {
	if s.sem == nil {
		return true
	}
	select {
	case s.sem <- struct{}{}:
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) release() {
	if s.sem != nil {
		<-s.sem
	}
}

// Shutdown stops the server gracefully: it closes the listeners at once,
// lets connections in progress finish until ctx is done or
// Config.ShutdownTimeout passes, then closes those still open (killing
// their children in ModelProcess). It returns only when every connection
// and every goroutine the server started has ended: nil if all finished on
// their own, the context's error if some had to be closed. Shutdown may be
// called more than once and concurrently with Close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopping {
		s.stopping = true
		close(s.done)
		for ln := range s.listeners {
			_ = ln.Close()
		}
	}
	s.mu.Unlock()
	s.serving.Wait()

	if s.cfg.ShutdownTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer cancel()
	}
	finished := make(chan struct{})
	go func() {
		s.handing.Wait()
		close(finished)
	}()
	defer s.stopJanitor()
	select {
	case <-finished:
		s.reaping.Wait()
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.forced = true
	for t := range s.conns {
		t.abort()
	}
	s.mu.Unlock()
	<-finished
	s.reaping.Wait()
	return ctx.Err()
}

// Close stops the server at once: it closes the listeners and every
// connection in progress, and returns when all of them and every goroutine
// the server started have ended. It is idempotent and always returns nil.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Shutdown(ctx)
	return nil
}
