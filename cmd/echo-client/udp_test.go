package main_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/impl"
	"github.com/echoconf/echoconf/impl/echotest"
)

// startUDPServer serves UDP echo on 127.0.0.1 and a free port with the
// reference library until the spec ends.
func startUDPServer() string {
	GinkgoHelper()
	srv := echotest.NewUDPServer(impl.UDPConfig{})
	DeferCleanup(func() { Expect(srv.Close()).To(Succeed()) })
	return srv.Addr
}

// startFakeUDP answers each datagram with answer(d), or not at all if it
// returns nil, until the spec ends.
func startFakeUDP(answer func(d []byte) []byte) string {
	GinkgoHelper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	Expect(err).NotTo(HaveOccurred())
	Expect(conn.SetDeadline(time.Now().Add(ioTimeout))).To(Succeed()) // bounds every read and reply
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return // closed at cleanup
			}
			if r := answer(buf[:n]); r != nil {
				_, _ = conn.WriteToUDPAddrPort(r, from) // UDP may lose it anyway
			}
		}
	}()
	DeferCleanup(func() {
		_ = conn.Close()
		<-done
	})
	return conn.LocalAddr().String()
}

var _ = Describe("echo-client -udp", func() {
	It("pipes 1 MiB through the reference server and verifies it (exit 0)", func() {
		in := randomBytes(1 << 20)
		s := runClient(bytes.NewReader(in), "-udp", "-verify", startUDPServer())
		Eventually(s, ioTimeout).Should(gexec.Exit(0))
		Expect(bytes.Equal(s.Out.Contents(), in)).To(BeTrue(), "stdout is the input (%d of %d bytes)", len(s.Out.Contents()), len(in))
		Expect(s.Err.Contents()).To(BeEmpty())
	})

	It("sends one datagram per line with -mode interactive", func() {
		var sizes []int
		sizesCh := make(chan int, 16)
		addr := startFakeUDP(func(d []byte) []byte {
			sizesCh <- len(d)
			return d
		})
		s := runClient(strings.NewReader("first line\n\x00second\n"), "-udp", "-mode", "interactive", "-verify", addr)
		Eventually(s, ioTimeout).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(Equal("first line\n\x00second\n"))
		for range 2 {
			var n int
			Eventually(sizesCh, ioTimeout).Should(Receive(&n))
			sizes = append(sizes, n)
		}
		Expect(sizes).To(Equal([]int{11, 8}))
	})

	It("exits 5 with one line when no reply comes after the retries", func() {
		var tries atomic.Int32
		addr := startFakeUDP(func([]byte) []byte {
			tries.Add(1)
			return nil
		})
		s := runClient(strings.NewReader("hello?"), "-udp", "-timeout", "100ms", "-retries", "2", addr)
		Eventually(s, ioTimeout).Should(gexec.Exit(5))
		oneLine(s, regexp.QuoteMeta("no reply to datagram 1 (6 bytes) after 3 tries of 100ms each"))
		Expect(tries.Load()).To(Equal(int32(3)), "the datagram was sent 3 times, each after a silent wait")
	})

	It("exits 1 with the datagram and offset when a reply is cut", func() {
		addr := startFakeUDP(func(d []byte) []byte { return d[:len(d)/2] })
		s := runClient(strings.NewReader("0123456789"), "-udp", "-verify", addr)
		Eventually(s, ioTimeout).Should(gexec.Exit(1))
		oneLine(s, regexp.QuoteMeta("verify: the reply to datagram 1 is cut short at offset 5 (input offset 5): sent 10 bytes, got 5"))
	})

	It("exits 3 when ICMP says nothing listens", func() {
		gone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		Expect(err).NotTo(HaveOccurred())
		addr := gone.LocalAddr().String()
		Expect(gone.Close()).To(Succeed())
		s := runClient(strings.NewReader("x"), "-udp", addr)
		Eventually(s, ioTimeout).Should(gexec.Exit(3))
		oneLine(s, regexp.QuoteMeta("cannot connect to "+addr+": nothing listens on this UDP port (ICMP port unreachable)"))
	})

	It("stops at once on SIGINT while it waits for input (exit 130)", func() {
		r, w, err := os.Pipe()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(r.Close)
		DeferCleanup(w.Close)
		s := runClient(r, "-udp", "-mode", "interactive", startUDPServer())
		_, err = w.Write([]byte("ping\n"))
		Expect(err).NotTo(HaveOccurred())
		Eventually(s.Out, ioTimeout).Should(gbytes.Say("ping\n"))
		s.Interrupt()
		Eventually(s, interruptBound).Should(gexec.Exit(130))
		Expect(string(s.Err.Contents())).To(Equal("echo-client: interrupted\n"))
	})

	DescribeTable("exits 2 with one line on bad UDP usage",
		func(want string, args ...string) {
			s := runClient(strings.NewReader(""), args...)
			Eventually(s, ioTimeout).Should(gexec.Exit(2))
			oneLine(s, regexp.QuoteMeta(want))
		},
		Entry("-retries without -udp", "-retries needs -udp", "-retries", "2", "127.0.0.1:7"),
		Entry("negative retries", "-retries: -1 is outside [0, 100]", "-udp", "-retries", "-1", "127.0.0.1:7"),
		Entry("too many retries", "-retries: 101 is outside [0, 100]", "-udp", "-retries", "101", "127.0.0.1:7"),
	)
})

var _ = Describe("echo-client -udp against echo-server -udp, both built", func() {
	It("echoes a pipe and lines end to end", func() {
		cmd := exec.Command(serverBin, "-udp", "-addr", "127.0.0.1:0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		srv, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			Eventually(srv, ioTimeout).Should(gexec.Exit())
		})
		Eventually(srv.Err, ioTimeout).Should(gbytes.Say(`listening on (127\.0\.0\.1:\d+) \(udp\)\n`))
		addr := regexp.MustCompile(`127\.0\.0\.1:\d+`).FindString(string(srv.Err.Contents()))

		in := randomBytes(300 << 10)
		pipe := runClient(bytes.NewReader(in), "-udp", "-verify", addr)
		Eventually(pipe, ioTimeout).Should(gexec.Exit(0))
		Expect(bytes.Equal(pipe.Out.Contents(), in)).To(BeTrue())

		lines := runClient(strings.NewReader("one\ntwo\n"), "-udp", "-mode", "interactive", "-verify", addr)
		Eventually(lines, ioTimeout).Should(gexec.Exit(0))
		Expect(string(lines.Out.Contents())).To(Equal("one\ntwo\n"))

		srv.Terminate()
		Eventually(srv, ioTimeout).Should(gexec.Exit(0))
		gone := runClient(strings.NewReader("x"), "-udp", "-timeout", "100ms", addr)
		Eventually(gone, ioTimeout).Should(gexec.Exit(3), "once the server stopped, nothing listens")
	})
})
