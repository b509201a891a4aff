package engine_test

import (
	"net"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("the preflight of a HOST:PORT target (issue 10)", func() {
	It("does not call a server that resets its first connection unreachable", func(ctx SpecContext) {
		// The server accepts and resets its first connection of each
		// round (SO_LINGER 0) at once, which can reach the dialer before
		// its connect() returns; the later connections are echoed.
		var n atomic.Int64
		srv := startFake(func(c net.Conn, quit <-chan struct{}) {
			if n.Add(1)%2 == 1 {
				_ = c.(*net.TCPConn).SetLinger(0)
				_ = c.Close()
				return
			}
			echoHandler(c, quit)
		})
		checks := []spec.Check{echoCheck("basic/echo")}
		for round := range 40 {
			n.Store(0)
			rep, err := engine.Run(ctx, engine.Target{Addr: srv.Addr}, engine.Options{Checks: checks})
			Expect(err).NotTo(HaveOccurred())
			f := rep.Results[0].Failure()
			if f != nil {
				Expect(f.Detail).NotTo(ContainSubstring("could not be reached"), "round %d", round)
			}
		}
	})

	It("skips, with their reason, the checks that need --exec when the target is unreachable", func(ctx SpecContext) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		rep, err := engine.Run(ctx, engine.Target{Addr: addr}, engine.Options{})
		Expect(err).NotTo(HaveOccurred())
		needExec := map[string]bool{"robustness/server-alive": true, "robustness/no-zombies": true, "robustness/fd-stable": true}
		for _, r := range rep.Results {
			if needExec[r.Check.ID] {
				Expect(r.Status).To(Equal(engine.StatusSkip), r.Check.ID)
				Expect(r.Err).To(MatchError(ContainSubstring("--exec")), r.Check.ID)
			} else {
				// A SHOULD check that cannot reach the server is not judged.
				want := engine.StatusFail
				if r.Check.Level == spec.Should {
					want = engine.StatusUnjudged
				}
				Expect(r.Status).To(Equal(want), r.Check.ID)
				Expect(r.Failure().Kind).To(Equal(spec.KindRefused), r.Check.ID)
			}
		}
		Expect(rep.Verdict()).To(Equal(engine.VerdictFail))
	})
})
