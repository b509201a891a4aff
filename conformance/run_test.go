package conformance_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/impl"
	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("Run", func() {
	It("applies every option, in order", func(ctx SpecContext) {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		rep, err := conformance.Run(ctx, conformance.Target{Addr: srv.Addr},
			conformance.WithRun("basic"), conformance.WithSkip("basic/all-byte-values"),
			conformance.WithSeed(7), conformance.WithRepeat(2), conformance.WithParallel(1),
			conformance.WithConfirmAlone(), conformance.WithStrict(), conformance.WithTimeoutScale(2))
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Seed).To(Equal(uint64(7)))
		Expect(rep.Strict).To(BeTrue())
		Expect(rep.TimeoutScale).To(Equal(2.0))
		Expect(rep.Verdict()).To(Equal(conformance.VerdictPass))
		ran := map[string]int{}
		for _, r := range rep.Results {
			if r.NotSelected {
				Expect(r.Status).To(Equal(conformance.StatusSkip), r.Check.ID)
				continue
			}
			Expect(r.Status).To(Equal(conformance.StatusPass), r.Check.ID)
			ran[r.Check.ID] = r.Runs
		}
		Expect(ran).NotTo(HaveKey("basic/all-byte-values"))
		Expect(len(ran)).To(BeNumerically(">=", 3))
		for id, runs := range ran {
			Expect(id).To(HavePrefix("basic/"))
			Expect(runs).To(Equal(2), id)
		}
	}, SpecTimeout(time.Minute))

	It("refuses a bad option before anything runs", func(ctx SpecContext) {
		_, err := conformance.Run(ctx, conformance.Target{Addr: "127.0.0.1:1"}, conformance.WithRepeat(-1))
		Expect(err).To(MatchError(ContainSubstring("repeat -1 out of range")))
		_, err = conformance.Run(ctx, conformance.Target{Addr: "127.0.0.1:1"}, conformance.WithRun("nosuch/*"))
		Expect(err).To(MatchError(ContainSubstring("matches no check")))
	})

})

var _ = Describe("StartProcess", func() {
	It("starts a server from its command line for checking by address, and stops it", func(ctx SpecContext) {
		bin, err := gexec.Build("github.com/echoconf/echoconf/cmd/echo-server")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
		p, err := conformance.StartProcess(ctx, conformance.ExecSpec{Command: bin + " -addr 127.0.0.1:{port}"})
		Expect(err).NotTo(HaveOccurred())
		Expect(conformance.CheckServer(p.Addr(), conformance.WithRun("basic/small-message"))).To(Succeed())
		info := p.Close()
		Expect(info.Exit).To(BeEmpty(), "it ran until Close stopped it")
		Expect(info.Command).To(ContainSubstring(bin))
	}, SpecTimeout(2*time.Minute))
})

var _ = Describe("a UDP server from Go", func() {
	It("is checked by CheckServer and TestServer with the udp catalogue", func() {
		srv := echotest.NewUDPServer(impl.UDPConfig{})
		DeferCleanup(srv.Close)
		Expect(conformance.CheckServer(srv.Addr, conformance.WithChecks(spec.UDP()...))).To(Succeed())
		rep, err := conformance.Run(context.Background(), conformance.Target{Addr: srv.Addr}, conformance.WithChecks(spec.UDP()...))
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Network).To(Equal("udp"))
	})
})
