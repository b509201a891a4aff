package conformance_test

import (
	"io"
	"net"
	"sync"
	"time"
)

// A faultyHandler serves one connection of an in-process test server. It
// must return once the connection is closed.
type faultyHandler func(conn *net.TCPConn, quit <-chan struct{})

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
