package impl_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/impl"
	"github.com/echoconf/echoconf/impl/echotest"
)

// corruptAt echoes faithfully except that it flips the byte at offset off.
func corruptAt(off int64) func(c *net.TCPConn) {
	return func(c *net.TCPConn) {
		buf := make([]byte, 4096)
		var pos int64
		for {
			n, err := c.Read(buf)
			if off >= pos && off < pos+int64(n) {
				buf[off-pos] ^= 0x20
			}
			pos += int64(n)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				_ = c.CloseWrite()
				return
			}
		}
	}
}

var _ = Describe("Client", func() {
	BeforeEach(checkLeaks)

	var srv *echotest.Server
	BeforeEach(func() {
		srv = echotest.NewServer()
		DeferCleanup(srv.Close)
	})

	It("pipes 8 MiB through a correct server and verifies it", func() {
		in := pattern(11, 8<<20)
		var out bytes.Buffer
		c := impl.Client{Addr: srv.Addr, Verify: true, VerifyWindow: 256 << 10}
		Expect(c.Pipe(context.Background(), bytes.NewReader(in), &out)).To(Succeed())
		Expect(bytes.Equal(out.Bytes(), in)).To(BeTrue(), "output differs at offset %d", firstDiff(out.Bytes(), in))
	})

	It("pipes without verifying", func() {
		var out bytes.Buffer
		c := impl.Client{Addr: srv.Addr}
		Expect(c.Pipe(context.Background(), strings.NewReader("no verify\n"), &out)).To(Succeed())
		Expect(out.String()).To(Equal("no verify\n"))
	})

	It("reports the offset of the first byte a corrupting server changes", func() {
		bad := startFakeServer(corruptAt(300_000))
		in := pattern(12, 1<<20)
		c := impl.Client{Addr: bad.Addr, Verify: true}
		err := c.Pipe(context.Background(), bytes.NewReader(in), io.Discard)
		var mismatch *impl.MismatchError
		Expect(errors.As(err, &mismatch)).To(BeTrue(), "got %v", err)
		Expect(mismatch.Kind).To(Equal(impl.MismatchByte))
		Expect(mismatch.Offset).To(Equal(int64(300_000)))
		Expect(mismatch.Want).To(Equal(in[300_000]))
		Expect(mismatch.Got).To(Equal(in[300_000] ^ 0x20))
		Expect(err.Error()).To(ContainSubstring("offset 300000"))
	})

	It("reports bytes the server never echoed", func() {
		short := startFakeServer(func(c *net.TCPConn) {
			buf := make([]byte, 10)
			n, _ := io.ReadFull(c, buf)
			_, _ = c.Write(buf[:n/2])
			_, _ = io.Copy(io.Discard, c)
			_ = c.CloseWrite()
		})
		c := impl.Client{Addr: short.Addr, Verify: true}
		err := c.Pipe(context.Background(), strings.NewReader("0123456789"), io.Discard)
		var mismatch *impl.MismatchError
		Expect(errors.As(err, &mismatch)).To(BeTrue(), "got %v", err)
		Expect(mismatch.Kind).To(Equal(impl.MismatchShort))
		Expect(mismatch.Offset).To(Equal(int64(5)))
		Expect(mismatch.Sent).To(Equal(int64(10)))
	})

	It("reports bytes the server never echoed without verifying too", func() {
		short := startFakeServer(func(c *net.TCPConn) {
			buf := make([]byte, 10)
			n, _ := io.ReadFull(c, buf)
			_, _ = c.Write(buf[:n/2])
			_ = c.CloseWrite()
			_, _ = io.Copy(io.Discard, c)
		})
		c := impl.Client{Addr: short.Addr}
		err := c.Pipe(context.Background(), strings.NewReader("0123456789"), io.Discard)
		var ce *impl.ConnError
		Expect(errors.As(err, &ce)).To(BeTrue(), "got %v", err)
		Expect(ce.Received).To(Equal(int64(5)))
		Expect(ce.Sent).To(Equal(int64(10)))
	})

	It("reports bytes the server added", func() {
		chatty := startFakeServer(func(c *net.TCPConn) {
			_, _ = c.Write([]byte("hello!"))
			_, _ = io.Copy(c, c)
		})
		c := impl.Client{Addr: chatty.Addr, Verify: true}
		err := c.Pipe(context.Background(), strings.NewReader("x"), io.Discard)
		var mismatch *impl.MismatchError
		Expect(errors.As(err, &mismatch)).To(BeTrue(), "got %v", err)
		Expect(mismatch.Offset).To(BeNumerically("<=", 1))
	})

	It("reports an unreachable server as a DialError", func() {
		c := impl.Client{Addr: closedPort(), Timeout: 2 * time.Second}
		err := c.Pipe(context.Background(), strings.NewReader("x"), io.Discard)
		var dial *impl.DialError
		Expect(errors.As(err, &dial)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(HavePrefix("cannot connect to 127.0.0.1:"))
		Expect(err.Error()).To(ContainSubstring("connection refused"))
	})

	It("reports a reset as a connection error", func() {
		reset := startFakeServer(func(c *net.TCPConn) {
			_, _ = c.Read(make([]byte, 1))
			_ = c.SetLinger(0)
			_ = c.Close()
		})
		c := impl.Client{Addr: reset.Addr, Timeout: 5 * time.Second}
		pr, pw := io.Pipe()
		DeferCleanup(pw.Close)
		go func() { _, _ = pw.Write([]byte("trigger")) }()
		err := c.Pipe(context.Background(), pr, io.Discard)
		var conn *impl.ConnError
		Expect(errors.As(err, &conn)).To(BeTrue(), "got %v", err)
		Expect(errors.Is(err, syscall.ECONNRESET)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("connection reset by server"))
		_ = pw.Close() // ends the sender's read
	})

	It("times out when the server stops echoing", func() {
		release := make(chan struct{})
		mute := startFakeServer(func(c *net.TCPConn) {
			_, _ = io.Copy(io.Discard, c)
			<-release // keeps the connection open without echoing
		})
		DeferCleanup(func() { close(release) }) // runs before the server's cleanup
		c := impl.Client{Addr: mute.Addr, Timeout: 200 * time.Millisecond}
		err := c.Pipe(context.Background(), strings.NewReader("anyone there?"), io.Discard)
		Expect(errors.Is(err, os.ErrDeadlineExceeded)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("timed out"))
	})

	It("does not time out while its input is idle and nothing is owed", func() {
		c := impl.Client{Addr: srv.Addr, Timeout: 100 * time.Millisecond, Verify: true}
		pr, pw := io.Pipe()
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- c.Pipe(context.Background(), pr, out) }()
		_, err := pw.Write([]byte("first "))
		Expect(err).NotTo(HaveOccurred())
		Eventually(out.String, ioTimeout).Should(Equal("first "))
		Consistently(done, 400*time.Millisecond).ShouldNot(Receive(), "idle input is no timeout")
		_, err = pw.Write([]byte("second"))
		Expect(err).NotTo(HaveOccurred())
		Expect(pw.Close()).To(Succeed())
		Eventually(done, ioTimeout).Should(Receive(BeNil()))
		Expect(out.String()).To(Equal("first second"))
	})

	It("echoes line by line in interactive mode", func() {
		var out bytes.Buffer
		c := impl.Client{Addr: srv.Addr, Verify: true}
		long := strings.Repeat("y", 10_000) + "\n" // longer than a terminal line: sent in pieces
		in := "one\ntwo\n" + long + "no newline"
		Expect(c.Interactive(context.Background(), strings.NewReader(in), &out)).To(Succeed())
		Expect(out.String()).To(Equal(in))
	})

	It("reports a corrupted line in interactive mode", func() {
		bad := startFakeServer(corruptAt(6))
		c := impl.Client{Addr: bad.Addr, Verify: true}
		err := c.Interactive(context.Background(), strings.NewReader("one\ntwo\n"), io.Discard)
		var mismatch *impl.MismatchError
		Expect(errors.As(err, &mismatch)).To(BeTrue(), "got %v", err)
		Expect(mismatch.Offset).To(Equal(int64(6)))
	})
})

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
