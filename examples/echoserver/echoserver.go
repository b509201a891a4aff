// Package echoserver is a small TCP Echo server (RFC 862), written the way a
// third party would, to show how its tests use echoconf: conformance.TestServer
// and conformance.CheckServer with plain "go test", and
// echoginkgo.DescribeServer with the EchoBack and PassCheck matchers in a
// Ginkgo suite.
package echoserver

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// IdleTimeout closes a connection on which nothing arrived for this long.
const IdleTimeout = 5 * time.Minute

// Server echoes every byte it receives on each connection until the client
// half-closes, then closes its side too.
type Server struct {
	ln net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Listen listens on addr ("127.0.0.1:0" picks a free port) and serves in the
// background until Close.
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr returns the "HOST:PORT" the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, closes every connection and waits for their
// goroutines to return.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// Out of file descriptors, for example: back off, keep serving.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(c)
	}
}

// handle echoes until the client's FIN (or an error), then closes.
func (s *Server) handle(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		c.SetReadDeadline(time.Now().Add(IdleTimeout))
		n, err := c.Read(buf)
		if n > 0 {
			c.SetWriteDeadline(time.Now().Add(IdleTimeout))
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err == io.EOF {
			return // closing sends our FIN after the echoed bytes
		}
		if err != nil {
			return
		}
	}
}
