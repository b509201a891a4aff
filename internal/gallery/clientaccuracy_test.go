package gallery_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/gallery"
)

// The client table: every client of testdata/clients.json is built with gcc
// and checked against the client catalogue, and each result is held to its
// manifest entry.

var clients, clientsErr = gallery.LoadClients()

// clientParallel is how many clients are checked at once: each run is
// mostly waiting (a silent server, a late echo), and 8 MiB through a
// stream client is the only heavy part.
const clientParallel = 6

func clientEntries() []TableEntry {
	if clientsErr != nil {
		return []TableEntry{Entry("the client manifest", gallery.Program{})}
	}
	var es []TableEntry
	for _, p := range clients.Clients {
		es = append(es, Entry(fmt.Sprintf("%s (%s, %s)", p.Name, p.Kind, p.Shape), p))
	}
	return es
}

var _ = Describe("the client table", Ordered, ContinueOnFailure, func() {
	runs := make(map[string]gallery.ServerRun)

	BeforeAll(func(ctx SpecContext) {
		if testing.Short() {
			Skip("-short: the client table runs every gallery client against the client catalogue (about 30 s)")
		}
		Expect(clientsErr).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		bins, err := clients.BuildAll(ctx, clients.Clients, dir)
		Expect(err).NotTo(HaveOccurred(), "every client builds with %s %s and no warning",
			gallery.Compiler(), strings.Join(gallery.BaseCFlags, " "))
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		for _, r := range gallery.RunAll(runCtx, clients.Clients, bins, clientParallel, engine.Options{}, nil, nil) {
			runs[r.Program.Name] = r
		}
	}, NodeTimeout(5*time.Minute))

	DescribeTable("a client's report matches its manifest entry",
		func(p gallery.Program) {
			Expect(clientsErr).NotTo(HaveOccurred())
			r, ok := runs[p.Name]
			Expect(ok).To(BeTrue(), "%s was not run", p.Name)
			Expect(r.Err).NotTo(HaveOccurred())
			rep := r.Report
			AddReportEntry(p.Name, fmt.Sprintf("%s in %v\n%s", rep.Verdict(), r.Elapsed, failures(rep)))
			Expect(rep.Client).NotTo(BeNil(), "a client report")
			Expect(string(rep.Verdict())).To(Equal(p.Expect.Verdict()), "verdict of %s (%s)\n%s", p.Name, p.Fault, failures(rep))
			for _, res := range rep.Results {
				Expect(res.Status).NotTo(Equal(engine.StatusError), "%s: the engine could not run it: %v", res.Check.ID, res.Err)
				if res.Status == engine.StatusSkip {
					Expect(p.Compared(res.Check.ID)).To(BeFalse(), "%s was skipped although it applies: %v", res.Check.ID, res.Err)
				}
			}
			want, got := p.ExpectedStatuses(p.CheckIDs()), p.ObservedStatuses(rep)
			Expect(cmp.Diff(want, got)).To(BeEmpty(), "status by check ID for %s (-want +got); results:\n%s", p.Name, failures(rep))
		},
		clientEntries(),
	)
})
