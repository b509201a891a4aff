package engine_test

import (
	"context"
	"errors"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/impl"
	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// startUDPEcho starts the reference UDP echo server until the spec ends.
func startUDPEcho() string {
	srv := echotest.NewUDPServer(impl.UDPConfig{})
	DeferCleanup(srv.Close)
	return srv.Addr
}

// datagramCheck sends one datagram through env.Dial and expects it back.
var datagramCheck = spec.Check{ID: "udp/one", Requirement: "One datagram comes back.", Timeout: 5 * time.Second, Network: "udp",
	Run: func(ctx context.Context, env *spec.Env) error {
		c, err := env.Dial(ctx)
		if err != nil {
			return &spec.Failure{Kind: spec.KindRefused, Offset: -1, Err: err}
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
			return err
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			return &spec.Failure{Kind: spec.KindRefused, Offset: -1, Err: err}
		}
		b := make([]byte, 16)
		n, err := c.Read(b)
		if err != nil || string(b[:n]) != "ping" {
			return &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Err: errors.Join(err, errors.New(string(b[:n])))}
		}
		return nil
	}}

var _ = Describe("a UDP target", func() {
	It("dials datagrams to a UDP echo server", func(ctx SpecContext) {
		rep, err := engine.Run(ctx, engine.Target{Addr: startUDPEcho(), Network: "udp"},
			engine.Options{Checks: []spec.Check{datagramCheck}})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Results[0].Status).To(Equal(engine.StatusPass), rep.Results[0].SkipReason())
	}, SpecTimeout(20*time.Second))

	It("fails fast when the port is closed (ICMP port unreachable)", func(ctx SpecContext) {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := pc.LocalAddr().String()
		Expect(pc.Close()).To(Succeed())
		rep, err := engine.Run(ctx, engine.Target{Addr: addr, Network: "udp"},
			engine.Options{Checks: []spec.Check{datagramCheck}})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Results[0].Status).To(Equal(engine.StatusFail))
		Expect(rep.Results[0].Failure().Kind).To(Equal(spec.KindRefused))
		Expect(rep.Results[0].Failure().Detail).To(ContainSubstring("before any check ran"))
	}, SpecTimeout(20*time.Second))

	It("rejects an unknown network", func(ctx SpecContext) {
		_, err := engine.Run(ctx, engine.Target{Addr: "127.0.0.1:7", Network: "sctp"}, engine.Options{Checks: []spec.Check{datagramCheck}})
		Expect(err).To(MatchError(ContainSubstring(`unknown network "sctp"`)))
	})
})

var _ = Describe("the UDP catalogue through the engine", func() {
	It("is the default for a UDP target, and passes a correct server", func(ctx SpecContext) {
		rep, err := engine.Run(ctx, engine.Target{Addr: startUDPEcho(), Network: "udp"}, engine.Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Results).To(HaveLen(len(spec.UDP())))
		for _, r := range rep.Results {
			want := engine.StatusPass
			if r.Check.Needs == spec.NeedsProcess {
				want = engine.StatusSkip
			}
			Expect(r.Status).To(Equal(want), "%s: %v", r.Check.ID, r.Err)
		}
		Expect(rep.Verdict()).To(Equal(engine.VerdictPass))
	}, SpecTimeout(time.Minute))
})

var _ = Describe("the network of a target that does not name one", func() {
	It("is the one its selected checks need", func(ctx SpecContext) {
		rep, err := engine.Run(ctx, engine.Target{Addr: startUDPEcho()}, engine.Options{Checks: spec.UDP(), Run: []string{"udp/sizes"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Network).To(Equal("udp"))
		for _, r := range rep.Results {
			if !r.NotSelected {
				Expect(r.Status).To(Equal(engine.StatusPass), r.Check.ID)
			}
		}
	}, SpecTimeout(time.Minute))

	It("refuses a selection that mixes TCP and UDP checks, or a target of the other network", func(ctx SpecContext) {
		_, err := engine.Run(ctx, engine.Target{Addr: "127.0.0.1:7"}, engine.Options{Checks: append(spec.All(), spec.UDP()...)})
		Expect(err).To(MatchError(ContainSubstring("mixes tcp checks and udp checks")))
		_, err = engine.Run(ctx, engine.Target{Addr: "127.0.0.1:7", Network: "tcp"}, engine.Options{Checks: spec.UDP()})
		Expect(err).To(MatchError(ContainSubstring("the target serves tcp but the selected checks need udp")))
	})
})
