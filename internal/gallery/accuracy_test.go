package gallery_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/gallery"
)

// The accuracy table: every server of the gallery is built with gcc and
// checked against the whole catalogue in exec mode, and each result is
// held to its manifest entry. The servers run RunAll's bound at a time
// ($ECHOCONF_GALLERY_PARALLEL overrides it) in BeforeAll; the entries then
// judge the reports.

// manifest is loaded while the spec tree is built, so the table can have
// one entry per server.
var manifest, manifestErr = gallery.Load()

// tableEntries returns one Entry per server of the manifest.
func tableEntries() []TableEntry {
	if manifestErr != nil {
		return []TableEntry{Entry("the manifest", gallery.Program{})}
	}
	var es []TableEntry
	for _, p := range manifest.Servers {
		es = append(es, Entry(fmt.Sprintf("%s (%s)", p.Name, p.Kind), p))
	}
	return es
}

func galleryParallel() int {
	if s := os.Getenv("ECHOCONF_GALLERY_PARALLEL"); s != "" {
		n, err := strconv.Atoi(s)
		Expect(err).NotTo(HaveOccurred(), "ECHOCONF_GALLERY_PARALLEL")
		Expect(n).To(BeNumerically(">", 0), "ECHOCONF_GALLERY_PARALLEL")
		return n
	}
	return gallery.DefaultParallel
}

// failures renders every non-passing result of r, one per line.
func failures(r *engine.Report) string {
	var b strings.Builder
	for _, res := range r.Results {
		if res.Status == engine.StatusPass || res.Status == engine.StatusSkip {
			continue
		}
		fmt.Fprintf(&b, "  %s %s: %v\n", res.Check.ID, res.Status, res.Err)
	}
	if r.Server != nil && len(r.Server.Deaths) > 0 {
		fmt.Fprintf(&b, "  server deaths: %s\n", strings.Join(r.Server.Deaths, "; "))
	}
	return b.String()
}

var _ = Describe("the accuracy table", Ordered, ContinueOnFailure, func() {
	runs := make(map[string]gallery.ServerRun)

	BeforeAll(func(ctx SpecContext) {
		if testing.Short() {
			Skip("-short: the accuracy table runs every gallery server against the whole catalogue (about a minute)")
		}
		Expect(manifestErr).NotTo(HaveOccurred())
		Expect(manifest.ValidateIDs(gallery.AllCheckIDs())).To(Succeed())
		dir := GinkgoT().TempDir()
		bins, err := manifest.BuildAll(ctx, manifest.Servers, dir)
		Expect(err).NotTo(HaveOccurred(), "every server builds with %s %s and no warning",
			gallery.Compiler(), strings.Join(gallery.BaseCFlags, " "))
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		for _, r := range gallery.RunAll(runCtx, manifest.Servers, bins, galleryParallel(), engine.Options{}, nil, nil) {
			runs[r.Program.Name] = r
		}
	}, NodeTimeout(6*60*1e9))

	DescribeTable("a server's report matches its manifest entry",
		func(p gallery.Program) {
			Expect(manifestErr).NotTo(HaveOccurred())
			r, ok := runs[p.Name]
			Expect(ok).To(BeTrue(), "%s was not run", p.Name)
			Expect(r.Err).NotTo(HaveOccurred())
			Expect(r.Leftovers).To(BeEmpty(), "processes of %s's group still running after the run", p.Name)
			rep := r.Report
			AddReportEntry(p.Name, fmt.Sprintf("%s in %v\n%s", rep.Verdict(), r.Elapsed, failures(rep)))

			Expect(string(rep.Verdict())).To(Equal(p.Expect.Verdict()), "verdict of %s (%s)\n%s", p.Name, p.Fault, failures(rep))
			byID := make(map[string]engine.Result, len(rep.Results))
			for _, res := range rep.Results {
				byID[res.Check.ID] = res
				Expect(res.Status).NotTo(Equal(engine.StatusError), "%s: the engine could not run it: %v", res.Check.ID, res.Err)
				Expect(res.Status).NotTo(Equal(engine.StatusSkip), "%s was skipped in exec mode: %v", res.Check.ID, res.Err)
			}
			for _, id := range p.Expect.Fail {
				Expect(byID[id].Status).To(Equal(engine.StatusFail), "%s must catch %s (%s)", id, p.Name, p.Fault)
			}
			for _, id := range p.Expect.Warn {
				Expect(byID[id].Status).To(Equal(engine.StatusWarn), "%s must warn about %s (%s)", id, p.Name, p.Fault)
			}
			for _, id := range p.Expect.Unjudged {
				Expect(byID[id].Status).To(Equal(engine.StatusUnjudged), "%s cannot judge %s (%s)", id, p.Name, p.Fault)
			}
			if len(p.Expect.CaughtBy) > 0 {
				var caught []string
				for _, id := range p.Expect.CaughtBy {
					if s := byID[id].Status; s == engine.StatusFail || s == engine.StatusWarn {
						caught = append(caught, id)
					}
				}
				Expect(caught).NotTo(BeEmpty(), "one of %v must catch %s (%s)", p.Expect.CaughtBy, p.Name, p.Fault)
			}
			if p.Kind == gallery.KindCorrect {
				want := map[engine.Status]int{engine.StatusPass: len(p.CheckIDs()) - len(p.Expect.Warn)}
				if len(p.Expect.Warn) > 0 {
					want[engine.StatusWarn] = len(p.Expect.Warn)
				}
				Expect(rep.Counts()).To(Equal(want),
					"a correct server passes every check but the SHOULD checks it names\n%s", failures(rep))
			}
			// Beyond the named checks: every compared check has exactly
			// the expected status.
			want, got := p.ExpectedStatuses(p.CheckIDs()), p.ObservedStatuses(rep)
			Expect(cmp.Diff(want, got)).To(BeEmpty(), "status by check ID for %s (-want +got); results:\n%s", p.Name, failures(rep))
		},
		tableEntries(),
	)
})
