package impl

import (
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// UDP limits and defaults.
const (
	// MaxUDPPayload is the largest UDP payload over IPv4: 65535 minus the
	// 20-byte IP and 8-byte UDP headers.
	MaxUDPPayload = 65507
	// udpBufferSize is each reader's buffer: larger than any datagram, so
	// nothing is ever truncated.
	udpBufferSize = 64 << 10
	// DefaultUDPReaders is how many goroutines read a UDP socket at once.
	DefaultUDPReaders = 4
	// MaxUDPReaders bounds UDPConfig.Readers.
	MaxUDPReaders = 64
	// DefaultUDPReadBuffer is the SO_RCVBUF a UDPServer asks for, so that
	// a burst waits in the kernel instead of being dropped. The kernel caps
	// it at net.core.rmem_max.
	DefaultUDPReadBuffer = 4 << 20
	// udpWriteTries bounds the sends of one reply: a send can fail with an
	// ICMP error that belongs to an earlier datagram (see UDPServer).
	udpWriteTries = 3
	// maxUDPBackoff bounds the pause after a shortage of kernel memory.
	maxUDPBackoff = 100 * time.Millisecond
	// udpCloseGrace bounds a reply in flight when Close is called.
	udpCloseGrace = time.Second
)

// UDPConfig configures a UDPServer. The zero value is valid: DefaultAddr,
// DefaultUDPReaders readers and DefaultUDPReadBuffer.
type UDPConfig struct {
	// Addr is the "host:port" ListenAndServe listens on (DefaultAddr if
	// empty). Serve ignores it.
	Addr string
	// Readers is the number of goroutines that read the socket, each with
	// its own 64 KiB buffer (DefaultUDPReaders if 0, at most
	// MaxUDPReaders). While one sends a reply, the others receive.
	Readers int
	// ReadBuffer is the SO_RCVBUF asked for, in bytes (DefaultUDPReadBuffer
	// if 0; -1 keeps the system default). The kernel may grant less.
	ReadBuffer int
	// ErrorLog receives a failure to set ReadBuffer (nil = discarded).
	// Errors that end Serve are returned, not logged; ICMP errors caused
	// by clients are normal and neither.
	ErrorLog *log.Logger
}

func (c UDPConfig) normalize() (UDPConfig, error) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Readers == 0 {
		c.Readers = DefaultUDPReaders
	}
	if c.Readers < 1 || c.Readers > MaxUDPReaders {
		return c, fmt.Errorf("udp readers %d is outside [1, %d]", c.Readers, MaxUDPReaders)
	}
	if c.ReadBuffer == 0 {
		c.ReadBuffer = DefaultUDPReadBuffer
	}
	if c.ReadBuffer < -1 {
		return c, fmt.Errorf("udp read buffer %d is negative", c.ReadBuffer)
	}
	return c, nil
}

// UDPStats counts what a UDPServer did since it was created.
type UDPStats struct {
	// Received is the number of datagrams read, empty ones included.
	Received uint64
	// Echoed is the number of replies the kernel accepted.
	Echoed uint64
	// Failed is the number of replies that could not be sent.
	Failed uint64
}

// A UDPServer is the reference UDP echo server (RFC 862): every datagram
// it receives is sent back once, unchanged, to the datagram's source
// address and port. Empty datagrams are echoed as empty datagrams, and a
// 65507-byte one whole. ICMP errors that a socket reports on a later call
// (ECONNREFUSED after a client closed its port, and the like) never stop
// it; a reply whose send fails with one is sent again, since the error
// belongs to an earlier datagram. UDP makes no delivery promise: a
// datagram the kernel drops because the socket's buffer is full is never
// seen, so it is never echoed. Create one with NewUDPServer; its methods
// are safe for concurrent use.
type UDPServer struct {
	cfg UDPConfig

	mu       sync.Mutex
	conns    map[*net.UDPConn]struct{}
	stopping bool
	serving  sync.WaitGroup

	received, echoed, failed atomic.Uint64
}

// NewUDPServer validates cfg and returns a UDPServer that is not yet
// serving.
func NewUDPServer(cfg UDPConfig) (*UDPServer, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	return &UDPServer{cfg: cfg, conns: make(map[*net.UDPConn]struct{})}, nil
}

// Config returns the server's configuration with defaults applied.
func (s *UDPServer) Config() UDPConfig { return s.cfg }

// Stats returns the server's counters.
func (s *UDPServer) Stats() UDPStats {
	return UDPStats{Received: s.received.Load(), Echoed: s.echoed.Load(), Failed: s.failed.Load()}
}

// ListenAndServe listens on Config.Addr and serves it as Serve does.
func (s *UDPServer) ListenAndServe() error {
	conn, err := listenUDP(s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(conn)
}

// Serve echoes the datagrams that arrive on conn, which must not be
// connected, until Close, then returns ErrServerClosed. It returns another
// error only when conn fails in a way retrying cannot cure. Serve always
// closes conn.
func (s *UDPServer) Serve(conn *net.UDPConn) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		_ = conn.Close()
		return ErrServerClosed
	}
	s.conns[conn] = struct{}{}
	s.serving.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		_ = conn.Close()
		s.serving.Done()
	}()
	if s.cfg.ReadBuffer > 0 {
		if err := conn.SetReadBuffer(s.cfg.ReadBuffer); err != nil {
			s.logf("udp: set read buffer: %v", err)
		}
	}
	f := &udpFailure{conn: conn}
	var readers sync.WaitGroup
	for range s.cfg.Readers {
		readers.Go(func() { f.set(s.readLoop(conn, f)) })
	}
	readers.Wait()
	if err := f.get(); err != nil && !s.isStopping() {
		return err // the caller reports it
	}
	return ErrServerClosed
}

// udpFailure is the first error that ended one of Serve's readers; the
// others, woken by it, end without one.
type udpFailure struct {
	conn *net.UDPConn
	mu   sync.Mutex
	err  error
}

// set records err if it is the first, and wakes the other readers.
func (f *udpFailure) set(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
		_ = f.conn.SetReadDeadline(time.Now())
	}
}

func (f *udpFailure) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// readLoop receives and echoes datagrams until the server stops, conn
// fails for good, or another reader failed.
func (s *UDPServer) readLoop(conn *net.UDPConn, f *udpFailure) error {
	buf := make([]byte, udpBufferSize)
	var backoff time.Duration
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.isStopping() || f.get() != nil {
				return nil
			}
			if icmpError(err) {
				continue // an earlier reply's destination was gone
			}
			if shortageError(err) {
				backoff = min(max(2*backoff, minAcceptBackoff), maxUDPBackoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		backoff = 0
		s.received.Add(1)
		s.reply(conn, buf[:n], from)
	}
}

// reply sends p back to to, again if the send reports an ICMP error that
// an earlier datagram caused.
func (s *UDPServer) reply(conn *net.UDPConn, p []byte, to netip.AddrPort) {
	for range udpWriteTries {
		_, err := conn.WriteToUDPAddrPort(p, to)
		if err == nil {
			s.echoed.Add(1)
			return
		}
		if !icmpError(err) && !shortageError(err) {
			break
		}
	}
	s.failed.Add(1)
}

// icmpError reports whether err is an error the kernel reports on a UDP
// socket because an ICMP message came back for an earlier datagram.
func icmpError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH,
		syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.ENETDOWN, syscall.EPROTO, syscall.EMSGSIZE} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// shortageError reports whether err is a passing lack of memory or
// buffers, or an interrupted call.
func shortageError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ENOBUFS, syscall.ENOMEM, syscall.EINTR} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

func (s *UDPServer) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

func (s *UDPServer) logf(format string, args ...any) {
	if s.cfg.ErrorLog != nil {
		s.cfg.ErrorLog.Printf(format, args...)
	}
}

// Close stops the server: each reader finishes the reply it is sending
// (within udpCloseGrace, should the send block), then every socket is
// closed. It returns when every goroutine the server started has ended. It
// is idempotent and always returns nil.
func (s *UDPServer) Close() error {
	s.mu.Lock()
	s.stopping = true
	for conn := range s.conns {
		_ = conn.SetReadDeadline(time.Now()) // wakes the readers, lets replies finish
		_ = conn.SetWriteDeadline(time.Now().Add(udpCloseGrace))
	}
	s.mu.Unlock()
	s.serving.Wait()
	return nil
}
