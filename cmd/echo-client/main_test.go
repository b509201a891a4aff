package main_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/impl/echotest"
)

const ioTimeout = 20 * time.Second

// runClient runs echo-client with stdin and args in its own process group,
// killed with the group at cleanup.
func runClient(stdin io.Reader, args ...string) *gexec.Session {
	GinkgoHelper()
	cmd := exec.Command(clientBin, args...)
	cmd.Stdin = stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s, err := gexec.Start(cmd, nil, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		Eventually(s, ioTimeout).Should(gexec.Exit())
	})
	return s
}

// oneLine expects stderr to be exactly one line matching re.
func oneLine(s *gexec.Session, re string) {
	GinkgoHelper()
	Expect(string(s.Err.Contents())).To(MatchRegexp(`^echo-client: [^\n]*` + re + `[^\n]*\n$`))
}

// startFakeServer serves every connection with handle until cleanup.
func startFakeServer(handle func(c *net.TCPConn)) string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(ioTimeout))
				handle(c.(*net.TCPConn))
			}()
		}
	}()
	DeferCleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

var _ = Describe("echo-client", func() {
	var addr string
	BeforeEach(func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		addr = srv.Addr
	})

	It("streams a multi-MiB input in pipe mode and verifies it (exit 0)", func() {
		in := randomBytes(6 << 20)
		s := runClient(bytes.NewReader(in), "-verify", addr)
		Eventually(s, ioTimeout).Should(gexec.Exit(0))
		Expect(bytes.Equal(s.Out.Contents(), in)).To(BeTrue(), "stdout is the input (%d of %d bytes)", len(s.Out.Contents()), len(in))
		Expect(s.Err.Contents()).To(BeEmpty())
	})

	It("echoes line by line with -mode interactive", func() {
		s := runClient(strings.NewReader("first line\nsecond line\n"), "-mode", "interactive", "-verify", addr)
		Eventually(s, ioTimeout).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(Equal("first line\nsecond line\n"))
	})

	It("exits 1 with the first differing offset against a corrupting server", func() {
		const corruptOffset = 123_457
		bad := startFakeServer(func(c *net.TCPConn) {
			buf := make([]byte, 4096)
			var pos int
			for {
				n, err := c.Read(buf)
				if corruptOffset >= pos && corruptOffset < pos+n {
					buf[corruptOffset-pos]++
				}
				pos += n
				if _, werr := c.Write(buf[:n]); werr != nil || err != nil {
					_ = c.CloseWrite()
					return
				}
			}
		})
		in := randomBytes(1 << 20)
		s := runClient(bytes.NewReader(in), "-verify", bad)
		Eventually(s, ioTimeout).Should(gexec.Exit(1))
		oneLine(s, regexp.QuoteMeta("verify: echo differs at offset 123457"))
	})

	It("exits 3 when nothing listens", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		closed := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		s := runClient(strings.NewReader("x"), closed)
		Eventually(s, ioTimeout).Should(gexec.Exit(3))
		oneLine(s, "cannot connect to "+regexp.QuoteMeta(closed)+": connect: connection refused")
	})

	It("exits 4 when the server resets the connection", func() {
		reset := startFakeServer(func(c *net.TCPConn) {
			_, _ = c.Read(make([]byte, 1))
			_ = c.SetLinger(0)
			_ = c.Close()
		})
		// An OS pipe whose write end stays open: the reset comes first.
		pr, pw, err := os.Pipe()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(pw.Close)
		_, err = pw.Write([]byte("x"))
		Expect(err).NotTo(HaveOccurred())
		s := runClient(pr, reset)
		Expect(pr.Close()).To(Succeed()) // the child has its own copy
		Eventually(s, ioTimeout).Should(gexec.Exit(4))
		oneLine(s, "connection reset by server")
	})

	It("exits 5 when the server stops echoing for -timeout", func() {
		release := make(chan struct{})
		mute := startFakeServer(func(c *net.TCPConn) {
			_, _ = io.Copy(io.Discard, c)
			<-release
		})
		DeferCleanup(func() { close(release) })
		s := runClient(strings.NewReader("hello?"), "-timeout", "300ms", mute)
		Eventually(s, ioTimeout).Should(gexec.Exit(5))
		oneLine(s, "timed out.*after 300ms without progress")
	})

	DescribeTable("exits 2 with one line on bad usage",
		func(want string, args ...string) {
			s := runClient(strings.NewReader(""), args...)
			Eventually(s, ioTimeout).Should(gexec.Exit(2))
			oneLine(s, regexp.QuoteMeta(want))
		},
		Entry("no address", "missing HOST:PORT"),
		Entry("no port", `bad address "localhost": want HOST:PORT`, "localhost"),
		Entry("unknown flag", "flag provided but not defined: -x", "-x", "127.0.0.1:7"),
		Entry("bad mode", `unknown mode "tty"`, "-mode", "tty", "127.0.0.1:7"),
		Entry("bad timeout", "-timeout: must be positive", "-timeout", "0s", "127.0.0.1:7"),
		Entry("two addresses", `unexpected argument "127.0.0.1:8"`, "127.0.0.1:7", "127.0.0.1:8"),
	)
})
