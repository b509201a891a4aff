package process

import (
	"context"
	"net"
	"strconv"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the ports of exec'd servers", func() {
	DescribeTable("are chosen outside the ephemeral range",
		func(lo, hi int, want [][2]int) {
			Expect(cmp.Diff(want, portSpans(lo, hi))).To(BeEmpty())
		},
		Entry("Linux's default range", 32768, 60999, [][2]int{{10000, 32767}, {61000, 65535}}),
		Entry("a range that starts low: the registered ports too", 10500, 60999, [][2]int{{1024, 10499}, {61000, 65535}}),
		Entry("a range up to the top", 32768, 65535, [][2]int{{10000, 32767}}),
		Entry("a range over every port", 1024, 65535, [][2]int(nil)),
	)

	It("draws only from the spans", func() {
		spans := [][2]int{{100, 101}, {200, 200}}
		seen := map[int]bool{}
		for range 300 {
			seen[drawPort(spans)] = true
		}
		Expect(seen).To(Equal(map[int]bool{100: true, 101: true, 200: true}))
		Expect(drawPort(nil)).To(BeZero())
	})

	for _, network := range []string{"tcp", "udp"} {
		It("reserves a "+network+" port, which a server without SO_REUSEADDR can bind, until it is released", func() {
			port, release, err := reservePort(network)
			Expect(err).NotTo(HaveOccurred())
			lo, hi := ephemeralRange()
			Expect(port < lo || port > hi).To(BeTrue(), "port %d is outside the ephemeral range %d-%d", port, lo, hi)
			name := "@echoconf-port-" + network + "-" + strconv.Itoa(port)
			_, err = net.Listen("unix", name)
			Expect(err).To(HaveOccurred(), "another echoconf cannot reserve it meanwhile")
			Expect(probeFree(network, port)).To(Succeed(), "the port is free for the server")
			release()
			l, err := net.Listen("unix", name)
			Expect(err).NotTo(HaveOccurred(), "released")
			Expect(l.Close()).To(Succeed())
		})
	}

	It("refuses a port that a listener or a connection holds", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		Expect(probeFree("tcp", port)).NotTo(Succeed(), "a listener")
		c, err := net.Dial("tcp", l.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		Expect(probeFree("tcp", c.LocalAddr().(*net.TCPAddr).Port)).NotTo(Succeed(), "the local end of a connection")
	})

	It("refuses a port whose last server left connections in TIME_WAIT, which a server without SO_REUSEADDR could not bind", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		port := l.Addr().(*net.TCPAddr).Port
		c, err := net.Dial("tcp", l.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		s, err := l.Accept()
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Close()).To(Succeed(), "the server closes first, so its end goes to TIME_WAIT once the client closes too")
		Expect(l.Close()).To(Succeed())
		Expect(c.Close()).To(Succeed())
		lc := net.ListenConfig{}
		again, err := lc.Listen(context.Background(), "tcp", l.Addr().String())
		Expect(err).NotTo(HaveOccurred(), "with SO_REUSEADDR, as Go sets it, the port binds")
		Expect(again.Close()).To(Succeed())
		Expect(probeFree("tcp", port)).NotTo(Succeed())
	})
})
