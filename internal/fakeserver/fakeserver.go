// Package fakeserver serves in-process TCP servers on 127.0.0.1, port 0,
// for tests: each accepted connection is handed to a Handler that decides
// how to behave or misbehave.
package fakeserver

import (
	"net"
	"sync"
)

// Handler serves one accepted connection. It must return once conn is
// closed or quit is closed; the server closes conn after it returns.
type Handler func(conn *net.TCPConn, quit <-chan struct{})

// Server is a running fake server.
type Server struct {
	// Addr is the address it listens on, "127.0.0.1:PORT".
	Addr string

	ln     net.Listener
	quit   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool // set by Close: a connection accepted after it is closed at once
	wg     sync.WaitGroup
}

// Start serves h on 127.0.0.1, port 0, until Close.
func Start(h Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, quit: make(chan struct{}), conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve(h)
	return s, nil
}

func (s *Server) serve(h Handler) {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close() // accepted as Close ran
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				_ = c.Close() // the handler may have closed it already
			}()
			h(c.(*net.TCPConn), s.quit)
		}()
	}
}

// Close stops accepting, closes quit and every open connection, and
// returns once every handler has returned. It is idempotent.
func (s *Server) Close() {
	s.once.Do(func() {
		_ = s.ln.Close() // unblocks Accept
		close(s.quit)
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			_ = c.Close() // unblocks the handler's I/O
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
}
