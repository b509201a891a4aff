package impl_test

import (
	"errors"
	"net"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/impl"
)

// startUDPServer serves conn (a new socket on 127.0.0.1 and a free port if
// nil) with a UDPServer configured by cfg until the spec ends.
func startUDPServer(cfg impl.UDPConfig, conn *net.UDPConn) (*impl.UDPServer, udpProbe) {
	GinkgoHelper()
	srv, err := impl.NewUDPServer(cfg)
	Expect(err).NotTo(HaveOccurred())
	if conn == nil {
		conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		Expect(err).NotTo(HaveOccurred())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(conn) }()
	DeferCleanup(func() {
		Expect(srv.Close()).To(Succeed())
		Eventually(served, ioTimeout).Should(Receive(MatchError(impl.ErrServerClosed)))
	})
	p, err := newUDPProbe(conn.LocalAddr().String())
	Expect(err).NotTo(HaveOccurred())
	return srv, p
}

// listenRecvErr opens a UDP socket with IP_RECVERR, so that the kernel
// reports an ICMP port unreachable as ECONNREFUSED on the socket's next
// call, as some systems do by default.
func listenRecvErr() *net.UDPConn {
	GinkgoHelper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	Expect(err).NotTo(HaveOccurred())
	raw, err := conn.SyscallConn()
	Expect(err).NotTo(HaveOccurred())
	var serr error
	Expect(raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVERR, 1)
	})).To(Succeed())
	Expect(serr).NotTo(HaveOccurred())
	return conn
}

var _ = Describe("UDPServer", func() {
	BeforeEach(checkLeaks)

	It("echoes 0, 1, 512, 1472, 8192 and 65507 bytes as exactly one identical datagram each", func() {
		srv, p := startUDPServer(impl.UDPConfig{}, nil)
		Expect(p.sizes()).To(Succeed())
		Expect(srv.Stats().Received).To(BeNumerically(">=", len(udpSizes)))
	})

	It("echoes every byte value unchanged", func() {
		_, p := startUDPServer(impl.UDPConfig{}, nil)
		Expect(p.byteValues()).To(Succeed())
	})

	It("replies to each datagram's source: two clients get only their own replies", func() {
		_, p := startUDPServer(impl.UDPConfig{}, nil)
		Expect(p.twoClients()).To(Succeed())
	})

	It("keeps serving after clients close their port before the reply, even when the socket reports ECONNREFUSED", func() {
		_, p := startUDPServer(impl.UDPConfig{}, listenRecvErr())
		Expect(p.closedClients()).To(Succeed())
		Expect(p.sizes()).To(Succeed())
	})

	It("answers a burst of 1000 datagrams from 20 sockets with no wrong, merged, split or duplicated datagram", func() {
		srv, p := startUDPServer(impl.UDPConfig{}, nil)
		res, err := p.burst()
		AddReportEntry("reference server burst", res.String())
		GinkgoWriter.Printf("reference server burst: %v; server %+v\n", res, srv.Stats())
		Expect(err).NotTo(HaveOccurred(), "%v", res)
	})

	It("serves with one reader and the system's receive buffer", func() {
		_, p := startUDPServer(impl.UDPConfig{Readers: 1, ReadBuffer: -1}, nil)
		Expect(p.sizes()).To(Succeed())
	})

	It("returns ErrServerClosed from Serve after Close, and from Serve called after Close", func() {
		srv, err := impl.NewUDPServer(impl.UDPConfig{})
		Expect(err).NotTo(HaveOccurred())
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		Expect(err).NotTo(HaveOccurred())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(conn) }()
		p, err := newUDPProbe(conn.LocalAddr().String())
		Expect(err).NotTo(HaveOccurred())
		Expect(p.byteValues()).To(Succeed())
		Expect(srv.Close()).To(Succeed())
		Eventually(served, ioTimeout).Should(Receive(MatchError(impl.ErrServerClosed)))
		late, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		Expect(err).NotTo(HaveOccurred())
		Expect(srv.Serve(late)).To(MatchError(impl.ErrServerClosed))
		Expect(srv.Close()).To(Succeed(), "Close is idempotent")
	})

	It("returns the socket's error when the socket is closed under it", func() {
		srv, err := impl.NewUDPServer(impl.UDPConfig{})
		Expect(err).NotTo(HaveOccurred())
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		Expect(err).NotTo(HaveOccurred())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(conn) }()
		p, err := newUDPProbe(conn.LocalAddr().String())
		Expect(err).NotTo(HaveOccurred())
		Expect(p.byteValues()).To(Succeed(), "serving")
		Expect(conn.Close()).To(Succeed())
		var got error
		Eventually(served, ioTimeout).Should(Receive(&got))
		Expect(errors.Is(got, net.ErrClosed)).To(BeTrue(), "%v", got)
		Expect(srv.Close()).To(Succeed())
	})

	DescribeTable("rejects a bad configuration",
		func(cfg impl.UDPConfig, want string) {
			_, err := impl.NewUDPServer(cfg)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("negative readers", impl.UDPConfig{Readers: -1}, "udp readers -1 is outside [1, 64]"),
		Entry("too many readers", impl.UDPConfig{Readers: 65}, "udp readers 65 is outside [1, 64]"),
		Entry("negative read buffer", impl.UDPConfig{ReadBuffer: -2}, "udp read buffer -2 is negative"),
	)
})

var _ = Describe("ListenTCPAndUDP", func() {
	It("picks one port free for both with port 0, and both echo", func() {
		for range 3 { // each time a new port
			ln, conn, err := impl.ListenTCPAndUDP("127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			tcpPort := ln.Addr().(*net.TCPAddr).Port
			udpPort := conn.LocalAddr().(*net.UDPAddr).Port
			Expect(udpPort).To(Equal(tcpPort))
			Expect(ln.Close()).To(Succeed())
			Expect(conn.Close()).To(Succeed())
		}
	})

	It("fails, leaving nothing open, when the UDP port of a fixed address is taken", func() {
		// A port whose TCP side was free a moment ago and whose UDP side
		// this test holds.
		var taken *net.UDPConn
		for range 32 {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			port := ln.Addr().(*net.TCPAddr).Port
			taken, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
			Expect(ln.Close()).To(Succeed())
			if err == nil {
				break
			}
		}
		Expect(taken).NotTo(BeNil(), "a port free for both")
		DeferCleanup(taken.Close)
		addr := taken.LocalAddr().String()
		// Had the first call left its TCP listener open, the second would
		// fail on TCP.
		for range 2 {
			_, _, err := impl.ListenTCPAndUDP(addr)
			Expect(err).To(MatchError(MatchRegexp(`^listen udp .*address already in use`)))
		}
	})

	It("rejects an address without a port", func() {
		_, _, err := impl.ListenTCPAndUDP("localhost")
		Expect(err).To(MatchError(ContainSubstring("missing port")))
	})
})
