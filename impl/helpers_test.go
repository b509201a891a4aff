package impl_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/echoconf/echoconf/impl"
)

// ioTimeout bounds every single I/O in these tests.
const ioTimeout = 20 * time.Second

// model is one server configuration every behaviour is tested under.
type model struct {
	name string
	cfg  impl.Config
}

var models = []model{
	{"goroutine model", impl.Config{}},
	{"process model", impl.Config{Model: impl.ModelProcess}},
	{"goroutine model with splice", impl.Config{Splice: true}},
}

// checkLeaks fails the spec if it leaves a goroutine behind. Call it first
// in a BeforeEach: cleanups run last-in first-out, so it runs after every
// other cleanup of the spec.
func checkLeaks() {
	ignore := goleak.IgnoreCurrent()
	DeferCleanup(func() { goleak.VerifyNone(GinkgoT(), ignore) })
}

// patternBlock is the random block payloads are cut from. Its length is
// odd, so a dropped or repeated run of bytes changes what follows unless
// its length is a multiple of the block's, far beyond any buffer size.
var patternBlock = func() []byte {
	b := make([]byte, 1<<20-3)
	var seed [32]byte
	copy(seed[:], "echoconf impl test pattern")
	_, _ = rand.NewChaCha8(seed).Read(b)
	return b
}()

// fillPattern fills p with the bytes at offset off of stream seed. Distinct
// seeds give distinct streams.
func fillPattern(seed uint64, off int64, p []byte) {
	n := int64(len(patternBlock))
	pos := (off + int64(seed%uint64(n))*104729) % n
	for i := 0; i < len(p); {
		k := copy(p[i:], patternBlock[pos:])
		i += k
		pos = 0
	}
}

func pattern(seed uint64, size int) []byte {
	p := make([]byte, size)
	fillPattern(seed, 0, p)
	return p
}

// dial connects to addr.
func dial(addr string) *net.TCPConn {
	GinkgoHelper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = c.Close() }) // tests may have closed it already
	return c.(*net.TCPConn)
}

// firstDiff returns the index of the first byte where a and b differ, or
// the shorter length if one is a prefix of the other.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// duplex streams size bytes of stream seed over c in writes of chunk
// bytes while it reads the echo, half-closes after the last write, and
// checks that exactly those bytes came back followed by EOF. It returns
// nil or an error naming the first differing offset. It is safe to call
// from goroutines.
func duplex(c *net.TCPConn, seed uint64, size int64, chunk int) error {
	wrote := make(chan error, 1)
	go func() {
		buf := make([]byte, chunk)
		for off := int64(0); off < size; {
			n := min(int64(chunk), size-off)
			fillPattern(seed, off, buf[:n])
			if err := c.SetWriteDeadline(time.Now().Add(ioTimeout)); err != nil {
				wrote <- err
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				wrote <- fmt.Errorf("write at offset %d: %w", off, err)
				return
			}
			off += n
		}
		wrote <- c.CloseWrite()
	}()
	if err := readStream(c, seed, size); err != nil {
		_ = c.Close() // unblocks the writer
		<-wrote
		return err
	}
	return <-wrote
}

// readStream reads from c until EOF and checks that it is exactly size
// bytes of stream seed.
func readStream(c net.Conn, seed uint64, size int64) error {
	got := make([]byte, 64<<10)
	want := make([]byte, len(got))
	var off int64
	for {
		if err := c.SetReadDeadline(time.Now().Add(ioTimeout)); err != nil {
			return err
		}
		n, err := c.Read(got)
		if n > 0 {
			if off+int64(n) > size {
				return fmt.Errorf("extra bytes: %d bytes received, %d sent", off+int64(n), size)
			}
			fillPattern(seed, off, want[:n])
			if !bytes.Equal(got[:n], want[:n]) {
				i := firstDiff(got[:n], want[:n])
				return fmt.Errorf("echo differs at offset %d: sent 0x%02x, got 0x%02x", off+int64(i), want[i], got[i])
			}
			off += int64(n)
		}
		if errors.Is(err, io.EOF) {
			if off != size {
				return fmt.Errorf("EOF after %d of %d bytes", off, size)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read at offset %d of %d: %w", off, size, err)
		}
	}
}

// expectEcho writes msg on c and expects it back exactly, promptly.
func expectEcho(c net.Conn, msg []byte) {
	GinkgoHelper()
	Expect(c.SetDeadline(time.Now().Add(ioTimeout))).To(Succeed())
	_, err := c.Write(msg)
	Expect(err).NotTo(HaveOccurred())
	got := make([]byte, len(msg))
	_, err = io.ReadFull(c, got)
	Expect(err).NotTo(HaveOccurred())
	Expect(bytes.Equal(got, msg)).To(BeTrue(), "echo differs at offset %d", firstDiff(got, msg))
}

// expectEOF expects c to be closed by the server with a FIN (not a reset)
// and nothing more to arrive.
func expectEOF(c net.Conn) {
	GinkgoHelper()
	Expect(c.SetReadDeadline(time.Now().Add(ioTimeout))).To(Succeed())
	rest, err := io.ReadAll(c)
	Expect(err).NotTo(HaveOccurred(), "the server must close with a FIN, not a reset")
	Expect(rest).To(BeEmpty())
}

// fakeServer is a misbehaving server for client tests: handle runs for
// every connection.
type fakeServer struct {
	Addr string
	ln   net.Listener
	wg   sync.WaitGroup
}

func startFakeServer(handle func(c *net.TCPConn)) *fakeServer {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	s := &fakeServer{Addr: ln.Addr().String(), ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(ioTimeout))
				handle(c.(*net.TCPConn))
			}()
		}
	}()
	DeferCleanup(s.close)
	return s
}

// close stops accepting and waits for the handlers, which end by their
// deadline at the latest.
func (s *fakeServer) close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

// closedPort returns an address on which nothing listens.
func closedPort() string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	return addr
}
