package adversary

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Server is a running adversarial server. Its methods are safe for
// concurrent use.
type Server struct {
	cfg  Config
	ln   *net.TCPListener
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	first     chan struct{} // closed at the first accept
	firstOnce sync.Once

	mu      sync.Mutex
	closed  bool
	nextID  int
	conns   map[*net.TCPConn]struct{}
	records []Record
	changed chan struct{} // closed and replaced whenever records grows
}

// Listen starts a server that plays cfg on every connection, on
// 127.0.0.1 and a port the system picks. It returns an error for an invalid
// cfg or when it cannot listen.
func Listen(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	lc := net.ListenConfig{}
	if cfg.BufferSize > 0 {
		lc.Control = bufferSizes(cfg.BufferSize)
	}
	l, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("adversary: listen: %w", err)
	}
	ln := l.(*net.TCPListener)
	s := &Server{
		cfg:     cfg,
		ln:      ln,
		quit:    make(chan struct{}),
		conns:   make(map[*net.TCPConn]struct{}),
		changed: make(chan struct{}),
		first:   make(chan struct{}),
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr returns the address the server listens on, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the host the server listens on, "127.0.0.1".
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the port the server listens on, as a string for command
// lines.
func (s *Server) Port() string { return strconv.Itoa(s.ln.Addr().(*net.TCPAddr).Port) }

// FirstAccept returns a channel that is closed once the server has
// accepted its first connection.
func (s *Server) FirstAccept() <-chan struct{} { return s.first }

// Accepted returns how many connections the server has accepted so far.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextID
}

// Records returns the records of the connections that are over, in the
// order they ended. A Silent connection is over at the client's end (or
// at its deadline), although the server still holds it open.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.records)
}

// Wait returns the records of the first n connections to end, as soon as
// n have ended, or the error of ctx if it ends first (with the records so
// far).
func (s *Server) Wait(ctx context.Context, n int) ([]Record, error) {
	for {
		s.mu.Lock()
		if len(s.records) >= n {
			out := slices.Clone(s.records[:n])
			s.mu.Unlock()
			return out, nil
		}
		ch, so := s.changed, slices.Clone(s.records)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return so, fmt.Errorf("adversary: waiting for %d connection(s) to end: %w", n, ctx.Err())
		}
	}
}

// Close stops accepting, cuts every open connection (its record is kept,
// with the server's Close as its ReadErr or WriteErr) and returns once every
// goroutine of the server has returned. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.quit)
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			_ = c.Close() // unblocks its reader and writer
		}
		s.mu.Unlock()
		err = s.ln.Close()
		s.wg.Wait()
	})
	if err != nil {
		return fmt.Errorf("adversary: close: %w", err)
	}
	return nil
}

// publish adds a connection's record.
func (s *Server) publish(rec Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, rec)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.AcceptTCP()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				// A transient failure (out of descriptors): retry, but
				// never spin.
				select {
				case <-s.quit:
					return
				case <-time.After(10 * time.Millisecond):
				}
				continue
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.nextID++
		id := s.nextID
		s.firstOnce.Do(func() { close(s.first) })
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			serve(s.cfg, nc, id, s.quit, s.publish)
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
		}()
	}
}
