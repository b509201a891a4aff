package spec_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/spec"
)

// udpReply decides what a fake UDP server sends back for a datagram from
// one address: the reply, to whom, and whether to send anything at all.
type udpReply func(s *udpFake, from net.Addr, b []byte) (to net.Addr, reply []byte, send bool)

// udpFake is a UDP echo server with one fault, on 127.0.0.1:0.
type udpFake struct {
	pc    net.PacketConn
	reply udpReply
	done  chan struct{}

	mu    sync.Mutex
	first net.Addr // the first client seen
}

// startUDPFake serves until the spec ends.
func startUDPFake(reply udpReply) *udpFake {
	GinkgoHelper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	s := &udpFake{pc: pc, reply: reply, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 70000)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			if s.first == nil {
				s.first = from
			}
			s.mu.Unlock()
			if to, b, ok := s.reply(s, from, bytes.Clone(buf[:n])); ok {
				_, _ = pc.WriteTo(b, to) // a lost reply is the check's to judge
			}
		}
	}()
	DeferCleanup(func() {
		Expect(pc.Close()).To(Succeed())
		<-s.done
	})
	return s
}

func (s *udpFake) env() *spec.Env {
	addr := s.pc.LocalAddr().String()
	return &spec.Env{Scale: 1, Seed: 7, Dial: func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// The fake servers' faults.
var (
	udpCorrect udpReply = func(_ *udpFake, from net.Addr, b []byte) (net.Addr, []byte, bool) { return from, b, true }
	udpStrlen  udpReply = func(_ *udpFake, from net.Addr, b []byte) (net.Addr, []byte, bool) {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return from, b, true
	}
	udpSmallBuffer udpReply = func(_ *udpFake, from net.Addr, b []byte) (net.Addr, []byte, bool) {
		return from, b[:min(len(b), 512)], true
	}
	udpFirstPeer udpReply = func(s *udpFake, _ net.Addr, b []byte) (net.Addr, []byte, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.first, b, true
	}
	udpOnlyFirst udpReply = func(s *udpFake, from net.Addr, b []byte) (net.Addr, []byte, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return from, b, from.String() == s.first.String()
	}
	udpSizeofBuf udpReply = func(_ *udpFake, from net.Addr, b []byte) (net.Addr, []byte, bool) {
		if len(b) < 1024 {
			b = append(b, make([]byte, 1024-len(b))...)
		}
		return from, b, true
	}
)

// runUDP runs the UDP check id against env and returns its error.
func runUDP(env *spec.Env, id string) error {
	GinkgoHelper()
	for _, c := range spec.UDP() {
		if c.ID == id {
			ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
			defer cancel()
			return c.Run(ctx, env)
		}
	}
	Fail("no UDP check " + id)
	return nil
}

var _ = Describe("the udp catalogue", func() {
	It("passes a correct server", func() {
		env := startUDPFake(udpCorrect).env()
		for _, c := range spec.UDP() {
			if c.Needs == spec.NeedsProcess {
				continue
			}
			Expect(runUDP(env, c.ID)).To(Succeed(), c.ID)
		}
	})

	DescribeTable("catches each fault with its diagnosis",
		func(reply udpReply, id string, diag spec.Diagnosis, detail string) {
			err := runUDP(startUDPFake(reply).env(), id)
			var f *spec.Failure
			Expect(errors.As(err, &f)).To(BeTrue(), "%s must fail", id)
			Expect(f.Diagnosis).To(Equal(diag))
			Expect(f.Detail).To(ContainSubstring(detail))
		},
		Entry("strlen on the data", udpStrlen, "udp/all-byte-values", spec.DiagTruncated, "first NUL byte (offset 255)"),
		Entry("a 512-byte buffer", udpSmallBuffer, "udp/sizes", spec.DiagTruncated, "receive buffer is smaller"),
		Entry("a 512-byte buffer, the largest datagram", udpSmallBuffer, "udp/max-datagram", spec.DiagTruncated, "use a 65507-byte buffer"),
		Entry("sizeof buf sent", udpSizeofBuf, "udp/sizes", spec.DiagExtra, "more than recvfrom returned"),
		Entry("replies to the first client", udpFirstPeer, "udp/reply-to-sender", spec.DiagNone, "the second client got no reply"),
		Entry("serves only the first client", udpOnlyFirst, "udp/reply-to-sender", spec.DiagNone, "connect()ed its socket"),
		Entry("replies to the first client, in a burst", udpFirstPeer, "udp/burst", spec.DiagOtherClient, "one client's datagram to another"),
	)

	It("fails an address where nothing listens, naming ICMP port unreachable", func() {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := pc.LocalAddr().String()
		Expect(pc.Close()).To(Succeed())
		env := &spec.Env{Scale: 1, Seed: 7, Dial: func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		}}
		var f *spec.Failure
		Expect(errors.As(runUDP(env, "udp/sizes"), &f)).To(BeTrue())
		Expect(f.Kind).To(Equal(spec.KindRefused))
		Expect(f.Actual).To(ContainSubstring("ICMP port unreachable"))
	})

	It("keeps every ID under udp/ and apart from the TCP catalogue", func() {
		tcp := map[string]bool{}
		for _, c := range spec.All() {
			tcp[c.ID] = true
		}
		for _, c := range spec.UDP() {
			Expect(c.Category()).To(Equal(spec.CategoryUDP))
			Expect(tcp).NotTo(HaveKey(c.ID))
		}
	})
})
