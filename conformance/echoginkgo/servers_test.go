package echoginkgo_test

import (
	"io"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/fakeserver"
)

// handler serves one accepted connection; the server closes conn after
// it returns.
type handler = fakeserver.Handler

// startServer serves h on 127.0.0.1, port 0, until the current spec ends,
// and returns its address. Every connection is closed and every goroutine
// has returned when the spec's cleanup finishes.
func startServer(h handler) string {
	GinkgoHelper()
	s, err := fakeserver.Start(h)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close)
	return s.Addr
}

// echo is a correct echo handler: it copies until EOF, then closes.
func echo(conn *net.TCPConn, _ <-chan struct{}) {
	conn.SetDeadline(time.Now().Add(time.Minute))
	io.Copy(conn, conn)
}

// alterAt echoes, but flips every bit of the byte at stream offset off.
func alterAt(off int64) handler {
	return func(conn *net.TCPConn, _ <-chan struct{}) {
		conn.SetDeadline(time.Now().Add(time.Minute))
		buf := make([]byte, 4096)
		var pos int64
		for {
			n, err := conn.Read(buf)
			for i := 0; i < n; i++ {
				if pos+int64(i) == off {
					buf[i] ^= 0xff
				}
			}
			pos += int64(n)
			if _, werr := conn.Write(buf[:n]); werr != nil || err != nil {
				return
			}
		}
	}
}

// readThen reads exactly n bytes, writes back the first echo of them, then
// does after (close, reset, or stall until the client goes away).
func readThen(n, echoed int, after handler) handler {
	return func(conn *net.TCPConn, quit <-chan struct{}) {
		conn.SetDeadline(time.Now().Add(time.Minute))
		buf := make([]byte, n)
		if _, err := io.ReadFull(conn, buf); err != nil {
			return
		}
		if _, err := conn.Write(buf[:echoed]); err != nil {
			return
		}
		after(conn, quit)
	}
}

func closeNow(conn *net.TCPConn, _ <-chan struct{}) {}

func resetNow(conn *net.TCPConn, _ <-chan struct{}) { conn.SetLinger(0) }

// stall reads and discards until the client goes away or the deadline.
func stall(conn *net.TCPConn, _ <-chan struct{}) {
	io.Copy(io.Discard, conn)
}

// payload returns n deterministic bytes that never repeat within 256.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// echoWithoutFIN echoes everything, but when the client half-closes it
// keeps its own side open (for up to a minute): it never sends its FIN.
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
