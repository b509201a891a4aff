package impl_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/impl"
)

// fakeUDP is a misbehaving UDP server for client tests: handle gets every
// datagram, numbered from 1, and may answer it on conn.
type fakeUDP struct {
	Addr string
	mu   sync.Mutex
	seen []int // sizes of the datagrams received
}

func startFakeUDP(handle func(conn *net.UDPConn, n int, d []byte, from netip.AddrPort)) *fakeUDP {
	GinkgoHelper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	Expect(err).NotTo(HaveOccurred())
	Expect(conn.SetDeadline(time.Now().Add(ioTimeout))).To(Succeed()) // bounds every read and reply
	f := &fakeUDP{Addr: conn.LocalAddr().String()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for n := 1; ; n++ {
			k, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return // closed at cleanup
			}
			f.mu.Lock()
			f.seen = append(f.seen, k)
			f.mu.Unlock()
			handle(conn, n, buf[:k], from)
		}
	}()
	DeferCleanup(func() {
		_ = conn.Close()
		<-done
	})
	return f
}

func (f *fakeUDP) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.seen...)
}

func reply(conn *net.UDPConn, d []byte, to netip.AddrPort) {
	_, _ = conn.WriteToUDPAddrPort(d, to) // a lost reply is what UDP allows
}

var _ = Describe("UDPClient", func() {
	BeforeEach(checkLeaks)

	It("pipes 1 MiB through the reference server in datagrams of at most 65507 bytes, and verifies it", func() {
		_, p := startUDPServer(impl.UDPConfig{}, nil)
		in := pattern(21, 1<<20)
		var out bytes.Buffer
		c := impl.UDPClient{Addr: p.server.String(), Retries: 3, Verify: true}
		Expect(c.Pipe(context.Background(), bytes.NewReader(in), &out)).To(Succeed())
		Expect(bytes.Equal(out.Bytes(), in)).To(BeTrue(), "output differs at offset %d", firstDiff(out.Bytes(), in))
	})

	It("sends one datagram per line in interactive mode, and a too-long line in 65507-byte pieces", func() {
		f := startFakeUDP(func(conn *net.UDPConn, _ int, d []byte, from netip.AddrPort) { reply(conn, d, from) })
		long := strings.Repeat("x", impl.MaxUDPPayload+10) + "\n"
		in := "one\n\ntwo\x00 and a half\n" + long + "last, no newline"
		var out bytes.Buffer
		c := impl.UDPClient{Addr: f.Addr, Verify: true}
		Expect(c.Interactive(context.Background(), strings.NewReader(in), &out)).To(Succeed())
		Expect(out.String()).To(Equal(in))
		Expect(f.sizes()).To(Equal([]int{4, 1, 16, impl.MaxUDPPayload, 11, 16}))
	})

	It("resends a datagram whose reply does not come, and ignores the late copy of a resent one", func() {
		// The first copy of datagram 1 is answered only after datagram 2
		// arrives, so the client sees a stale reply while it waits for 2.
		var held []byte
		var to netip.AddrPort
		f := startFakeUDP(func(conn *net.UDPConn, n int, d []byte, from netip.AddrPort) {
			switch n {
			case 1:
				held, to = bytes.Clone(d), from
			case 3:
				reply(conn, held, to)
				reply(conn, d, from)
			default:
				reply(conn, d, from)
			}
		})
		var out bytes.Buffer
		c := impl.UDPClient{Addr: f.Addr, Timeout: probeWait, Retries: 1, Verify: true}
		Expect(c.Interactive(context.Background(), strings.NewReader("first\nsecond\n"), &out)).To(Succeed())
		Expect(out.String()).To(Equal("first\nsecond\n"))
		Expect(f.sizes()).To(Equal([]int{6, 6, 7}))
	})

	It("fails with a NoReplyError after its retries", func() {
		f := startFakeUDP(func(*net.UDPConn, int, []byte, netip.AddrPort) {})
		c := impl.UDPClient{Addr: f.Addr, Timeout: probeQuiet, Retries: 2}
		err := c.Pipe(context.Background(), strings.NewReader("anyone?"), io.Discard)
		var nr *impl.NoReplyError
		Expect(errors.As(err, &nr)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError("no reply to datagram 1 (7 bytes) after 3 tries of 150ms each"))
		Expect(errors.Is(err, os.ErrDeadlineExceeded)).To(BeTrue())
		Expect(f.sizes()).To(Equal([]int{7, 7, 7}))
	})

	It("reports a reply cut short with the datagram and the offset", func() {
		f := startFakeUDP(func(conn *net.UDPConn, _ int, d []byte, from netip.AddrPort) {
			reply(conn, d[:min(len(d), 10)], from)
		})
		c := impl.UDPClient{Addr: f.Addr, Verify: true}
		err := c.Interactive(context.Background(), strings.NewReader("short\nthis line is too long\n"), io.Discard)
		var mm *impl.DatagramMismatchError
		Expect(errors.As(err, &mm)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError("verify: the reply to datagram 2 is cut short at offset 10 (input offset 16): sent 22 bytes, got 10"))
	})

	It("says nothing listens when ICMP port unreachable comes back", func() {
		gone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		Expect(err).NotTo(HaveOccurred())
		addr := gone.LocalAddr().String()
		Expect(gone.Close()).To(Succeed())
		c := impl.UDPClient{Addr: addr, Retries: 3}
		err = c.Pipe(context.Background(), strings.NewReader("hello"), io.Discard)
		var de *impl.DialError
		Expect(errors.As(err, &de)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring("nothing listens on this UDP port (ICMP port unreachable)")))
	})

	It("returns at once when its context is cancelled while it waits for input", func() {
		_, p := startUDPServer(impl.UDPConfig{}, nil)
		pr, pw := io.Pipe()
		DeferCleanup(func() { _ = pw.Close() }) // ends the blocked read
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			c := impl.UDPClient{Addr: p.server.String()}
			done <- c.Interactive(ctx, pr, io.Discard)
		}()
		_, err := pw.Write([]byte("a line\n"))
		Expect(err).NotTo(HaveOccurred())
		cancel()
		Eventually(done, ioTimeout).Should(Receive(MatchError(context.Canceled)))
	})

	It("rejects retries out of range", func() {
		c := impl.UDPClient{Addr: "127.0.0.1:1", Retries: impl.MaxUDPRetries + 1}
		Expect(c.Pipe(context.Background(), strings.NewReader("x"), io.Discard)).To(MatchError("udp retries 101 is outside [0, 100]"))
	})
})
