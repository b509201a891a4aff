package echotest_test

import (
	"context"
	"io"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/echoconf/echoconf/impl"
	"github.com/echoconf/echoconf/impl/echotest"
)

// roundTrip sends msg on a fresh connection to addr, half-closes, and
// returns everything that came back before EOF.
func roundTrip(addr string, msg []byte) []byte {
	GinkgoHelper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	Expect(err).NotTo(HaveOccurred())
	defer c.Close()
	Expect(c.SetDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
	_, err = c.Write(msg)
	Expect(err).NotTo(HaveOccurred())
	Expect(c.(*net.TCPConn).CloseWrite()).To(Succeed())
	got, err := io.ReadAll(c)
	Expect(err).NotTo(HaveOccurred())
	return got
}

var _ = Describe("Server", func() {
	BeforeEach(func() {
		// Registered first, so it runs after every other cleanup.
		ignore := goleak.IgnoreCurrent()
		DeferCleanup(func() { goleak.VerifyNone(GinkgoT(), ignore) })
	})

	DescribeTable("echoes on its loopback address and closes cleanly",
		func(cfg impl.Config) {
			srv := echotest.NewServerWith(cfg)
			host, _, err := net.SplitHostPort(srv.Addr)
			Expect(err).NotTo(HaveOccurred())
			Expect(host).To(Equal("127.0.0.1"))
			Expect(roundTrip(srv.Addr, []byte("hello\n"))).To(Equal([]byte("hello\n")))
			Expect(srv.Close()).To(Succeed())
			Expect(srv.Close()).To(Succeed(), "Close is idempotent")
			_, err = net.DialTimeout("tcp", srv.Addr, time.Second)
			Expect(err).To(HaveOccurred(), "nothing listens after Close")
		},
		Entry("goroutine model", impl.Config{}),
		Entry("process model", impl.Config{Model: impl.ModelProcess}),
		Entry("goroutine model with splice", impl.Config{Splice: true}),
	)

	It("NewServer uses the goroutine model", func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		Expect(srv.Config().Model).To(Equal(impl.ModelGoroutine))
		Expect(roundTrip(srv.Addr, []byte{0, 1, 2})).To(Equal([]byte{0, 1, 2}))
	})

	It("queues connections until Start", func() {
		srv := echotest.NewUnstartedServer(impl.Config{})
		DeferCleanup(srv.Close)
		c, err := net.DialTimeout("tcp", srv.Addr, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		_, err = c.Write([]byte("x"))
		Expect(err).NotTo(HaveOccurred())
		srv.Start()
		Expect(c.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
		buf := make([]byte, 1)
		_, err = io.ReadFull(c, buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(buf).To(Equal([]byte("x")))
	})

	It("closes an unstarted server", func() {
		srv := echotest.NewUnstartedServer(impl.Config{})
		Expect(srv.Close()).To(Succeed())
		Expect(func() { srv.Start() }).To(Panic())
	})

	It("shuts down gracefully once connections end", func() {
		srv := echotest.NewServer()
		Expect(roundTrip(srv.Addr, []byte("a"))).To(Equal([]byte("a")))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		Expect(srv.Shutdown(ctx)).To(Succeed())
		Expect(srv.Close()).To(Succeed())
	})

	It("panics on an invalid configuration", func() {
		Expect(func() { echotest.NewServerWith(impl.Config{MaxConns: -1}) }).To(PanicWith(ContainSubstring("max conns")))
	})
})

var _ = Describe("UDPServer", func() {
	It("echoes a datagram on its loopback address and closes cleanly", func() {
		ignore := goleak.IgnoreCurrent()
		DeferCleanup(func() { goleak.VerifyNone(GinkgoT(), ignore) })
		srv := echotest.NewUDPServer(impl.UDPConfig{})
		host, _, err := net.SplitHostPort(srv.Addr)
		Expect(err).NotTo(HaveOccurred())
		Expect(host).To(Equal("127.0.0.1"))
		c, err := net.Dial("udp", srv.Addr)
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		Expect(c.SetDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
		_, err = c.Write([]byte("hello\x00"))
		Expect(err).NotTo(HaveOccurred())
		got := make([]byte, 100)
		n, err := c.Read(got)
		Expect(err).NotTo(HaveOccurred())
		Expect(got[:n]).To(Equal([]byte("hello\x00")))
		Expect(srv.Stats().Echoed).To(Equal(uint64(1)))
		Expect(srv.Close()).To(Succeed())
		Expect(srv.Close()).To(Succeed(), "Close is idempotent")
	})

	It("panics on an invalid configuration", func() {
		Expect(func() { echotest.NewUDPServer(impl.UDPConfig{Readers: -1}) }).To(PanicWith(ContainSubstring("udp readers -1")))
	})
})
