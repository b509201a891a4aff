package conformance_test

import (
	"io"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// A faultyHandler serves one connection of an in-process test server. It
// must return once the connection is closed.
type faultyHandler func(conn *net.TCPConn, quit <-chan struct{})

// startFaultyServer serves h on 127.0.0.1, port 0, until the current spec
// (or container, when called in BeforeAll) ends, and returns its address.
func startFaultyServer(h faultyHandler) string {
	GinkgoHelper()
	addr, stop, err := serveFaulty(h)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(stop)
	return addr
}

// serveFaulty serves h on 127.0.0.1, port 0, and returns its address and a
// stop function. When stop returns, every connection is closed and every
// goroutine has returned.
func serveFaulty(h faultyHandler) (addr string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		quit  = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				h(c.(*net.TCPConn), quit)
			}()
		}
	}()
	stop = func() {
		l.Close()
		close(quit)
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
	return l.Addr().String(), stop, nil
}

// echoWithoutFIN echoes everything, but when the client half-closes it
// keeps its own side open (for up to a minute): a server that never sends
// its FIN.
func echoWithoutFIN(conn *net.TCPConn, quit <-chan struct{}) {
	conn.SetDeadline(time.Now().Add(time.Minute))
	if _, err := io.Copy(conn, conn); err != nil {
		return
	}
	select { // hold the connection open without reading
	case <-quit:
	case <-time.After(time.Minute):
	}
}

// echoAtMost returns a handler that echoes the first n bytes of each
// connection and discards the rest, closing after the client half-closes:
// a server with a fixed buffer that it never recycles.
func echoAtMost(n int64) faultyHandler {
	return func(conn *net.TCPConn, _ <-chan struct{}) {
		conn.SetDeadline(time.Now().Add(time.Minute))
		if _, err := io.CopyN(conn, conn, n); err != nil {
			return
		}
		io.Copy(io.Discard, conn)
	}
}
