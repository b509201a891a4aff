package spec_test

import (
	"context"
	"fmt"
	"net"
	"runtime"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/spec"
)

// dualStack serves echoAtEOF on every address, IPv6 and IPv4 ([::]), as
// a dual-stack server does: its sockets are in /proc/net/tcp6 even for an
// IPv4 client. It returns the IPv4 loopback address to dial.
func dualStack() string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		Skip("no IPv6 on this machine: " + err.Error())
	}
	DeferCleanup(ln.Close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				echoAtEOF(nil, c)
			}()
		}
	}()
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
}

// neverAccepts listens on 127.0.0.1 and never accepts: connections, and
// the bytes sent on them, wait in its backlog.
func neverAccepts() string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(ln.Close)
	return ln.Addr().String()
}

var _ = Describe("Failure.Held, the bytes a server read and kept", func() {
	BeforeEach(func() {
		if runtime.GOOS != "linux" {
			Skip("the server's socket queues are read from Linux's /proc/net/tcp")
		}
	})

	run := func(id string, env *spec.Env) *spec.Failure {
		GinkgoHelper()
		c, ok := spec.Lookup(id)
		Expect(ok).To(BeTrue(), id)
		ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
		defer cancel()
		return failureOf(c.Run(ctx, env))
	}

	DescribeTable("counts what the server read and did not echo, and only that",
		func(id string, addr func() string, wantHeld int64, wantReport string) {
			f := run(id, dialEnv(addr(), faultScale))
			Expect(f.Kind).To(Equal(spec.KindTimeout))
			Expect(f.Held).To(Equal(wantHeld), f.Report())
			if wantReport == "" {
				Expect(f.Report()).NotTo(ContainSubstring("held back"))
			} else {
				Expect(f.Report()).To(ContainSubstring(wantReport))
			}
		},
		Entry("a server that echoes at EOF read the whole message",
			"basic/small-message", func() string { return startFake(echoAtEOF).ln.Addr().String() },
			int64(len(spec.SmallMessage)), "the server read every byte sent and held back 76 of them"),
		// all-byte-values has a newline at offsets 9 and 501: the 10
		// bytes after the second wait for a third.
		Entry("a server that reads lines read the end of the message too",
			"basic/all-byte-values", func() string { return startFake(echoLines).ln.Addr().String() },
			int64(10), "held back 10 of them"),
		Entry("a dual-stack server's socket is found in /proc/net/tcp6",
			"basic/small-message", dualStack, int64(len(spec.SmallMessage)), "held back 76 of them"),
		Entry("a server that never reads this connection did not read it",
			"basic/small-message", func() string { return startFake(silent).ln.Addr().String() },
			int64(0), ""),
		Entry("a server that never accepts the connection did not read it",
			"basic/small-message", neverAccepts, int64(0), ""),
		Entry("a server busy with another client has not accepted this one",
			"basic/small-message", func() string {
				s := startFake(silent, iterative)
				c, err := net.Dial("tcp", s.ln.Addr().String())
				Expect(err).NotTo(HaveOccurred())
				DeferCleanup(c.Close)
				return s.ln.Addr().String()
			}, int64(0), ""),
	)
})
