package main_test

import (
	"bytes"
	"encoding/json"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/internal/fakeserver"
)

// upcaseServer echoes with every letter upper-cased.
func upcaseServer() string {
	GinkgoHelper()
	s, err := fakeserver.Start(func(c *net.TCPConn, _ <-chan struct{}) {
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(bytes.ToUpper(buf[:n])); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close)
	return s.Addr
}

var _ = Describe("echoconf bench", func() {
	It("measures the built-in reference server and writes JSON that encoding/json reads", func() {
		s := echoconf(time.Minute, "bench", "--mode", "pingpong", "--conns", "2", "--duration", "300ms", "--warmup", "50ms", "--format", "json")
		Expect(s.ExitCode()).To(Equal(0), "stderr: %s", s.Err.Contents())
		var r struct {
			Mode         string  `json:"mode"`
			CPUCondition string  `json:"cpu_condition"`
			MsgsPerSec   float64 `json:"msgs_per_sec"`
			Latency      struct {
				P50 int64 `json:"p50_ns"`
				P99 int64 `json:"p99_ns"`
			} `json:"latency"`
		}
		Expect(json.Unmarshal(s.Out.Contents(), &r)).To(Succeed())
		Expect(r.Mode).To(Equal("pingpong"))
		Expect(r.CPUCondition).To(Equal("idle"))
		Expect(r.MsgsPerSec).To(BeNumerically(">", 0))
		Expect(r.Latency.P50).To(BeNumerically(">", 0))
		Expect(r.Latency.P99).To(BeNumerically(">=", r.Latency.P50))
	})

	It("ends with exit 1 and check's diagnosis when the echo is corrupted", func() {
		s := echoconf(time.Minute, "bench", "--duration", "2s", "--warmup", "0s", upcaseServer())
		Expect(s).To(gexec.Exit(1))
		Expect(string(s.Err.Contents())).To(HavePrefix("echoconf: bench: the server failed: wrong-bytes (altered) on client 1 of 1 at offset "))
		Expect(string(s.Err.Contents())).To(ContainSubstring("expected from offset"))
	})

	It("ends with exit 1 when the server is unreachable", func() {
		s := echoconf(time.Minute, "bench", "--duration", "1s", refusedAddr())
		Expect(s).To(gexec.Exit(1))
		Expect(string(s.Err.Contents())).To(ContainSubstring("refused"))
	})

	DescribeTable("rejects bad usage with exit 2 and one line",
		func(want string, args ...string) {
			s := echoconf(time.Minute, append([]string{"bench"}, args...)...)
			Expect(s).To(gexec.Exit(2))
			Expect(string(s.Err.Contents())).To(MatchRegexp(`^echoconf: bench: [^\n]*` + want + `[^\n]*\n$`))
		},
		Entry("unknown mode", `unknown mode "flood"`, "--mode", "flood"),
		Entry("bad format", `unknown format "xml"`, "--format", "xml"),
		Entry("two targets", "at most one HOST:PORT", "127.0.0.1:1", "127.0.0.1:2"),
		Entry("target and exec", "not both", "--exec", "true {port}", "127.0.0.1:1"),
		Entry("bad address", "invalid target", "nohostport"),
		Entry("zero connections", "connections", "--conns", "-1"),
	)
})
