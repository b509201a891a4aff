// Package echotest starts reference echo servers on loopback ports for
// tests, in the manner of net/http/httptest.
//
//	srv := echotest.NewServer()
//	defer srv.Close()
//	conn, err := net.Dial("tcp", srv.Addr)
//
// Servers with options or the process model come from NewServerWith, and
// UDP echo servers from NewUDPServer. The
// process model re-executes the test binary, so its TestMain must call
// impl.RunChildIfRequested first:
//
//	func TestMain(m *testing.M) {
//		if code, ok := impl.RunChildIfRequested(); ok {
//			os.Exit(code)
//		}
//		os.Exit(m.Run())
//	}
package echotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/echoconf/echoconf/impl"
)

// A Server is a reference echo server listening on a loopback port.
type Server struct {
	// Addr is the "127.0.0.1:port" the server listens on, known as soon as
	// the Server is created (connections made before Start wait in the
	// accept queue).
	Addr string

	srv     *impl.Server
	ln      net.Listener
	mu      sync.Mutex
	started bool
	closed  bool
	served  chan error // Serve's result, once started
}

// NewServer starts a goroutine-model server on 127.0.0.1 and a free port.
// It panics if it cannot listen, as httptest.NewServer does.
func NewServer() *Server { return NewServerWith(impl.Config{}) }

// NewServerWith starts a server configured by cfg on 127.0.0.1 and a free
// port; cfg.Addr is ignored. It panics on an invalid cfg or if it cannot
// listen.
func NewServerWith(cfg impl.Config) *Server {
	s := NewUnstartedServer(cfg)
	s.Start()
	return s
}

// NewUnstartedServer returns a server listening on 127.0.0.1 and a free
// port that accepts nothing until Start. It panics on an invalid cfg or if
// it cannot listen.
func NewUnstartedServer(cfg impl.Config) *Server {
	cfg.Addr = "127.0.0.1:0"
	srv, err := impl.NewServer(cfg)
	if err != nil {
		panic(fmt.Sprintf("echotest: %v", err))
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		panic(fmt.Sprintf("echotest: listen on %s: %v", cfg.Addr, err))
	}
	return &Server{Addr: ln.Addr().String(), srv: srv, ln: ln, served: make(chan error, 1)}
}

// Start starts serving. It panics if the server was already started or
// closed.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		panic("echotest: Start called twice or after Close")
	}
	s.started = true
	go func() { s.served <- s.srv.Serve(s.ln) }()
}

// Config returns the server's configuration with defaults applied.
func (s *Server) Config() impl.Config { return s.srv.Config() }

// ActiveConns returns the number of connections being served now.
func (s *Server) ActiveConns() int { return s.srv.ActiveConns() }

// Shutdown stops accepting and waits for connections in progress to finish
// until ctx is done, then closes the rest, as impl.Server.Shutdown does. It
// returns when the server and all its goroutines (and, in the process
// model, children) have ended.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	return errors.Join(err, s.finish())
}

// Close closes the listener and every connection at once and returns when
// the server and all its goroutines (and children) have ended. It is
// idempotent. It returns an error only if Serve failed for a reason other
// than being closed.
func (s *Server) Close() error {
	_ = s.srv.Close()
	return s.finish()
}

// finish waits for Serve to return, once, and reports its unexpected error.
func (s *Server) finish() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if !s.started {
		_ = s.ln.Close()
		return nil
	}
	if err := <-s.served; !errors.Is(err, impl.ErrServerClosed) {
		return fmt.Errorf("echotest: serve: %w", err)
	}
	return nil
}
