package main_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// listeningOn waits for the listening line with its protocol suffix and
// returns the address.
func listeningOn(s *gexec.Session, suffix string) string {
	GinkgoHelper()
	Eventually(s.Err, ioTimeout).Should(gbytes.Say(`listening on .*\n`))
	re := regexp.MustCompile(`^listening on (127\.0\.0\.1:\d+)` + regexp.QuoteMeta(suffix) + `\n`)
	m := re.FindSubmatch(s.Err.Contents())
	Expect(m).NotTo(BeNil(), "stderr starts with the listening line: %q", s.Err.Contents())
	return string(m[1])
}

// udpClient opens a UDP socket on 127.0.0.1 and a free port.
func udpClient() *net.UDPConn {
	GinkgoHelper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = c.Close() })
	return c
}

// udpTakenTCPFree holds the UDP side of a port whose TCP side was free a
// moment ago.
func udpTakenTCPFree() *net.UDPConn {
	GinkgoHelper()
	for range 32 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ln.Addr().(*net.TCPAddr).Port})
		Expect(ln.Close()).To(Succeed())
		if err == nil {
			DeferCleanup(func() { _ = c.Close() })
			return c
		}
	}
	Fail("no port free for both TCP and UDP in 32 tries")
	return nil
}

// expectDatagramEcho sends d to addr from c and expects exactly d back from
// addr, resending up to 3 times on silence.
func expectDatagramEcho(c *net.UDPConn, addr string, d []byte) {
	GinkgoHelper()
	to, err := net.ResolveUDPAddr("udp", addr)
	Expect(err).NotTo(HaveOccurred())
	buf := make([]byte, 64<<10)
	for range 3 {
		Expect(c.SetDeadline(time.Now().Add(time.Second))).To(Succeed())
		_, err := c.WriteToUDP(d, to)
		Expect(err).NotTo(HaveOccurred())
		n, from, err := c.ReadFromUDP(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		Expect(err).NotTo(HaveOccurred())
		Expect(from.String()).To(Equal(addr))
		Expect(n).To(Equal(len(d)), "one datagram of the same size")
		Expect(bytes.Equal(buf[:n], d)).To(BeTrue(), "the same bytes")
		return
	}
	Fail("no reply after 3 tries")
}

var _ = Describe("echo-server -udp", func() {
	It("echoes datagrams of 0, 1 and 65507 bytes to their sender, survives a closed client, and stops on SIGTERM", func() {
		s := startServer("-udp", "-addr", "127.0.0.1:0")
		addr := listeningOn(s, " (udp)")
		c := udpClient()
		for _, n := range []int{0, 1, 65507} {
			d := bytes.Repeat([]byte{0, 'x', 0xff}, n/3+1)[:n]
			expectDatagramEcho(c, addr, d)
		}
		gone := udpClient()
		to, err := net.ResolveUDPAddr("udp", addr)
		Expect(err).NotTo(HaveOccurred())
		Expect(gone.SetWriteDeadline(time.Now().Add(ioTimeout))).To(Succeed())
		_, err = gone.WriteToUDP([]byte("gone before the reply"), to)
		Expect(err).NotTo(HaveOccurred())
		Expect(gone.Close()).To(Succeed())
		expectDatagramEcho(c, addr, []byte("still there"))
		s.Signal(syscall.SIGTERM)
		Eventually(s, ioTimeout).Should(gexec.Exit(0))
		Expect(strings.Count(string(s.Err.Contents()), "\n")).To(Equal(1), "stderr: %q", s.Err.Contents())
	})

	It("listens on every interface with -addr :PORT and answers IPv4 clients", func() {
		s := startServer("-udp", "-addr", ":0")
		Eventually(s.Err, ioTimeout).Should(gbytes.Say(`listening on \[::\]:(\d+) \(udp\)\n`))
		port := regexp.MustCompile(`:(\d+) `).FindStringSubmatch(string(s.Err.Contents()))[1]
		expectDatagramEcho(udpClient(), net.JoinHostPort("127.0.0.1", port), []byte("v4 to a dual-stack socket"))
	})

	It("does not listen on TCP", func() {
		s := startServer("-udp", "-addr", "127.0.0.1:0", "-udp-readers", "1")
		addr := listeningOn(s, " (udp)")
		_, err := net.DialTimeout("tcp", addr, ioTimeout)
		Expect(err).To(MatchError(ContainSubstring("connection refused")))
	})

	It("exits 1 when the UDP port is taken", func() {
		taken := udpClient()
		s := startServer("-udp", "-addr", taken.LocalAddr().String())
		Eventually(s, ioTimeout).Should(gexec.Exit(1))
		Expect(s.Err).To(gbytes.Say(`^echo-server: listen udp 127\.0\.0\.1:\d+: bind: address already in use\n$`))
	})
})

var _ = Describe("echo-server -tcp-and-udp", func() {
	It("serves TCP and UDP on the one port it picked, and stops on SIGINT", func() {
		s := startServer("-tcp-and-udp", "-addr", "127.0.0.1:0")
		addr := listeningOn(s, " (tcp and udp)")
		expectDatagramEcho(udpClient(), addr, []byte("over udp\x00"))
		c := dial(addr)
		expectEcho(c, "over tcp\x00")
		Expect(c.CloseWrite()).To(Succeed())
		_, err := io.ReadAll(c)
		Expect(err).NotTo(HaveOccurred())
		s.Interrupt()
		Eventually(s, ioTimeout).Should(gexec.Exit(0))
	})

	It("exits 1 when the UDP half of a fixed port is taken", func() {
		taken := udpTakenTCPFree()
		s := startServer("-tcp-and-udp", "-addr", taken.LocalAddr().String())
		Eventually(s, ioTimeout).Should(gexec.Exit(1))
		Expect(s.Err).To(gbytes.Say(`^echo-server: listen udp 127\.0\.0\.1:\d+: bind: address already in use\n$`))
	})
})

var _ = DescribeTable("echo-server rejects bad UDP flags with one line and exit code 2",
	func(want string, args ...string) {
		s := startServer(args...)
		Eventually(s, ioTimeout).Should(gexec.Exit(2))
		Expect(string(s.Err.Contents())).To(MatchRegexp(`^echo-server: [^\n]*%s[^\n]*\n$`, regexp.QuoteMeta(want)))
	},
	Entry("both protocol flags", "-udp and -tcp-and-udp exclude each other", "-udp", "-tcp-and-udp"),
	Entry("a TCP-only flag with -udp", "-model applies to TCP only, not to -udp", "-udp", "-model", "process"),
	Entry("-splice with -udp", "-splice applies to TCP only, not to -udp", "-udp", "-splice"),
	Entry("-udp-readers without UDP", "-udp-readers needs -udp or -tcp-and-udp", "-udp-readers", "2"),
	Entry("no readers", "-udp-readers: 0 is outside [1, 64]", "-udp", "-udp-readers", "0"),
	Entry("too many readers", "-udp-readers: 65 is outside [1, 64]", "-tcp-and-udp", "-udp-readers", "65"),
	Entry("bad -udp value", `invalid boolean value "maybe" for -udp`, "-udp=maybe"),
)
