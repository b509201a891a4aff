package main_test

import (
	"bytes"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

const ioTimeout = 10 * time.Second

// startServer runs echo-server with args in its own process group, killed
// with the group at cleanup.
func startServer(args ...string) *gexec.Session {
	GinkgoHelper()
	cmd := exec.Command(serverBin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		Eventually(s, ioTimeout).Should(gexec.Exit())
	})
	return s
}

var listeningLine = regexp.MustCompile(`^listening on (127\.0\.0\.1:\d+)\n`)

// listeningAddr waits for the listening line and returns the address.
func listeningAddr(s *gexec.Session) string {
	GinkgoHelper()
	Eventually(s.Err, ioTimeout).Should(gbytes.Say(`listening on .*\n`))
	m := listeningLine.FindSubmatch(s.Err.Contents())
	Expect(m).NotTo(BeNil(), "stderr starts with the listening line: %q", s.Err.Contents())
	return string(m[1])
}

func dial(addr string) *net.TCPConn {
	GinkgoHelper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = c.Close() })
	Expect(c.SetDeadline(time.Now().Add(ioTimeout))).To(Succeed())
	return c.(*net.TCPConn)
}

func expectEcho(c net.Conn, msg string) {
	GinkgoHelper()
	_, err := c.Write([]byte(msg))
	Expect(err).NotTo(HaveOccurred())
	got := make([]byte, len(msg))
	_, err = io.ReadFull(c, got)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(got)).To(Equal(msg))
}

var _ = Describe("echo-server", func() {
	for _, model := range []string{"goroutine", "process"} {
		Describe("-model "+model, func() {
			It("prints exactly one listening line, echoes, and stops gracefully on SIGTERM", func() {
				s := startServer("-addr", "127.0.0.1:0", "-model", model)
				addr := listeningAddr(s)
				c := dial(addr)
				expectEcho(c, "hello\x00\xff\n")
				Expect(c.CloseWrite()).To(Succeed())
				rest, err := io.ReadAll(c)
				Expect(err).NotTo(HaveOccurred(), "closed with a FIN")
				Expect(rest).To(BeEmpty())
				s.Signal(syscall.SIGTERM)
				Eventually(s, ioTimeout).Should(gexec.Exit(0))
				Expect(strings.Count(string(s.Err.Contents()), "\n")).To(Equal(1), "stderr: %q", s.Err.Contents())
			})

			It("drains a connection in progress on SIGINT", func() {
				s := startServer("-addr", "127.0.0.1:0", "-model", model, "-shutdown-timeout", "20s")
				addr := listeningAddr(s)
				c := dial(addr)
				expectEcho(c, "before")
				s.Interrupt()
				Eventually(func() error {
					nc, err := net.DialTimeout("tcp", addr, time.Second)
					if err == nil {
						nc.Close()
					}
					return err
				}, ioTimeout).Should(HaveOccurred(), "it stops accepting")
				Consistently(s, 100*time.Millisecond).ShouldNot(gexec.Exit(), "it waits for the connection")
				expectEcho(c, "after")
				Expect(c.CloseWrite()).To(Succeed())
				_, err := io.ReadAll(c)
				Expect(err).NotTo(HaveOccurred())
				Eventually(s, ioTimeout).Should(gexec.Exit(0))
			})

			It("closes connections still open at -shutdown-timeout", func() {
				s := startServer("-addr", "127.0.0.1:0", "-model", model, "-shutdown-timeout", "200ms")
				c := dial(listeningAddr(s))
				expectEcho(c, "idle now")
				s.Terminate()
				Eventually(s, ioTimeout).Should(gexec.Exit(0))
				_, err := c.Read(make([]byte, 1))
				Expect(err).To(HaveOccurred(), "the connection was closed")
				Expect(s.Err).To(gbytes.Say("closed connections still open at shutdown"))
			})

			It("applies -max-conns and -idle-timeout", func() {
				s := startServer("-addr", "127.0.0.1:0", "-model", model, "-max-conns", "1", "-idle-timeout", "300ms")
				addr := listeningAddr(s)
				first := dial(addr)
				expectEcho(first, "1")
				second := dial(addr)
				_, err := second.Write([]byte("2"))
				Expect(err).NotTo(HaveOccurred())
				// The first connection idles out, which frees the slot.
				_, err = io.ReadAll(first)
				Expect(err).NotTo(HaveOccurred())
				got := make([]byte, 1)
				_, err = io.ReadFull(second, got)
				Expect(err).NotTo(HaveOccurred())
				Expect(string(got)).To(Equal("2"))
			})
		})
	}

	It("echoes a 4 MiB stream written while it reads", func() {
		s := startServer("-addr", "127.0.0.1:0")
		c := dial(listeningAddr(s))
		payload := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
		go func() {
			defer GinkgoRecover()
			_, err := c.Write(payload)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.CloseWrite()).To(Succeed())
		}()
		got, err := io.ReadAll(c)
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(got, payload)).To(BeTrue(), "%d of %d bytes came back", len(got), len(payload))
	})

	It("listens on every interface with -addr :PORT", func() {
		s := startServer("-addr", ":0")
		Eventually(s.Err, ioTimeout).Should(gbytes.Say(`listening on \[::\]:(\d+)\n`))
	})

	DescribeTable("rejects bad flags with one line and exit code 2",
		func(want string, args ...string) {
			s := startServer(args...)
			Eventually(s, ioTimeout).Should(gexec.Exit(2))
			Expect(string(s.Err.Contents())).To(MatchRegexp(`^echo-server: [^\n]*%s[^\n]*\n$`, regexp.QuoteMeta(want)))
		},
		Entry("unknown flag", "flag provided but not defined: -bogus", "-bogus"),
		Entry("unknown model", `unknown model "fork"`, "-model", "fork"),
		Entry("negative max conns", "-max-conns: -1 is negative", "-max-conns", "-1"),
		Entry("bad duration", `invalid value "soon" for flag -idle-timeout`, "-idle-timeout", "soon"),
		Entry("address without port", "-addr: address localhost: missing port in address", "-addr", "localhost"),
		Entry("stray argument", `unexpected argument "extra"`, "extra"),
		Entry("port out of range", "-addr: port 99999 is outside [0, 65535]", "-addr", "127.0.0.1:99999"),
		Entry("unknown service name", `-addr: unknown port "nosuchservice"`, "-addr", "127.0.0.1:nosuchservice"),
		Entry("zero buffer size", "-buffer-size: 0 is outside [512, 4194304]", "-buffer-size", "0"),
		Entry("tiny buffer size", "-buffer-size: 1 is outside [512, 4194304]", "-buffer-size", "1"),
		Entry("negative idle timeout", "-idle-timeout: -1s is negative", "-idle-timeout", "-1s"),
	)

	It("never prefixes a message with an internal package name", func() {
		s := startServer("-buffer-size", "1")
		Eventually(s, ioTimeout).Should(gexec.Exit(2))
		Expect(string(s.Err.Contents())).NotTo(ContainSubstring("impl:"))
	})

	It("exits 1 when it cannot listen", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ln.Close)
		s := startServer("-addr", ln.Addr().String())
		Eventually(s, ioTimeout).Should(gexec.Exit(1))
		Expect(s.Err).To(gbytes.Say(`^echo-server: listen tcp 127\.0\.0\.1:\d+: bind: address already in use\n$`))
	})

	It("prints its usage on -h and exits 0", func() {
		s := startServer("-h")
		Eventually(s, ioTimeout).Should(gexec.Exit(0))
		Expect(s.Out).To(gbytes.Say("usage: echo-server"))
		Expect(s.Out).To(gbytes.Say("-max-conns"))
	})
})
