package main_test

import (
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("echoconf check --udp", func() {
	It("lists the udp catalogue", func() {
		s := echoconf(10*time.Second, "list", "--udp")
		Expect(s.ExitCode()).To(Equal(0))
		out := string(s.Out.Contents())
		for _, c := range spec.UDP() {
			Expect(out).To(ContainSubstring(c.ID))
		}
		Expect(out).NotTo(ContainSubstring("basic/"))
	})

	It("passes the built-in reference UDP server", func() {
		s := echoconf(time.Minute, "check", "--udp", "--no-color")
		Expect(s.ExitCode()).To(Equal(0), string(s.Out.Contents()))
		Expect(string(s.Out.Contents())).To(ContainSubstring("built-in reference UDP server"))
		Expect(string(s.Out.Contents())).To(ContainSubstring("PASS: conformant"))
	})

	It("fails a server that cuts datagrams at the first NUL, and its replay keeps --udp", func() {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 70000)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				b := buf[:n]
				if i := strings.IndexByte(string(b), 0); i >= 0 {
					b = b[:i]
				}
				_, _ = pc.WriteTo(b, from) // a lost reply is the check's to judge
			}
		}()
		DeferCleanup(func() {
			Expect(pc.Close()).To(Succeed())
			<-done
		})
		s := echoconf(time.Minute, "check", "--udp", "--no-color", "--select", "udp/all-byte-values", pc.LocalAddr().String())
		Expect(s.ExitCode()).To(Equal(1))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("stops at the first NUL byte (offset 255)"))
		Expect(out).To(MatchRegexp(`replay: echoconf check --select udp/all-byte-values --seed \d+ --timeout-scale 1 --udp 127\.0\.0\.1:\d+`))
	})

	It("refuses a TCP check ID", func() {
		s := echoconf(10*time.Second, "check", "--udp", "--select", "basic/small-message")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("matches no check"))
	})
})
