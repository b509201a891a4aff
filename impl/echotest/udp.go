package echotest

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/echoconf/echoconf/impl"
)

// A UDPServer is a reference UDP echo server on a loopback port.
type UDPServer struct {
	// Addr is the "127.0.0.1:port" the server receives on.
	Addr string

	srv    *impl.UDPServer
	served chan error
	once   sync.Once
	err    error
}

// NewUDPServer starts a UDP echo server configured by cfg on 127.0.0.1
// and a free port; cfg.Addr is ignored. It panics on an invalid cfg or if
// it cannot listen, as NewServer does.
func NewUDPServer(cfg impl.UDPConfig) *UDPServer {
	srv, err := impl.NewUDPServer(cfg)
	if err != nil {
		panic(fmt.Sprintf("echotest: %v", err))
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		panic(fmt.Sprintf("echotest: listen udp: %v", err))
	}
	s := &UDPServer{Addr: conn.LocalAddr().String(), srv: srv, served: make(chan error, 1)}
	go func() { s.served <- srv.Serve(conn) }()
	return s
}

// Stats returns the server's counters.
func (s *UDPServer) Stats() impl.UDPStats { return s.srv.Stats() }

// Close stops the server and returns when all its goroutines have ended.
// It is idempotent. It returns an error only if Serve failed for a reason
// other than being closed.
func (s *UDPServer) Close() error {
	s.once.Do(func() {
		_ = s.srv.Close()
		if err := <-s.served; !errors.Is(err, impl.ErrServerClosed) {
			s.err = fmt.Errorf("echotest: serve udp: %w", err)
		}
	})
	return s.err
}
