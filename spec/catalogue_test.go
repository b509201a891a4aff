package spec_test

import (
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/spec"
)

// goldenIDs is the catalogue as plan.md fixes it. IDs are a public
// contract: this list only ever grows.
var goldenIDs = []string{
	"basic/no-greeting",
	"basic/small-message",
	"basic/many-messages",
	"basic/all-byte-values",
	"basic/line-endings",
	"partial/prompt-echo",
	"partial/single-byte-writes",
	"partial/odd-sizes",
	"partial/paused-writes",
	"partial/buffer-boundaries",
	"large/1mib",
	"large/16mib",
	"large/64mib",
	"large/slow-reader",
	"large/throughput",
	"halfclose/no-data",
	"halfclose/small-pending",
	"halfclose/large-pending",
	"concurrency/many-clients",
	"concurrency/idle-client",
	"concurrency/non-reading-client",
	"robustness/reset-mid-echo",
	"robustness/close-without-reading",
	"robustness/reset-pending-write",
	"robustness/sequential-connections",
	"robustness/server-alive",
	"robustness/no-zombies",
	"robustness/fd-stable",
}

var _ = Describe("the catalogue", func() {
	all := spec.All()

	It("has exactly the agreed IDs, in catalogue order", func() {
		var ids []string
		for _, c := range all {
			ids = append(ids, c.ID)
		}
		Expect(cmp.Diff(goldenIDs, ids)).To(BeEmpty())
	})

	It("is well formed", func() {
		idRE := regexp.MustCompile(`^[a-z]+/[a-z0-9-]+$`)
		seen := map[string]bool{}
		lastCat := -1
		for _, c := range all {
			Expect(c.ID).To(MatchRegexp(idRE.String()))
			Expect(seen[c.ID]).To(BeFalse(), "duplicate ID %s", c.ID)
			seen[c.ID] = true
			cat := slices.Index(spec.Categories(), c.Category())
			Expect(cat).To(BeNumerically(">=", lastCat), "%s is out of category order", c.ID)
			lastCat = cat
			Expect(c.Requirement).NotTo(BeEmpty())
			Expect(c.Requirement).To(HaveSuffix("."))
			Expect(c.Timeout).To(BeNumerically(">", time.Duration(0)))
			Expect(c.Run).NotTo(BeNil())
			Expect(c.Level).To(BeElementOf(spec.Must, spec.Should))
		}
	})

	It("marks the exclusive and SHOULD checks as plan.md does", func() {
		var exclusive, should []string
		for _, c := range all {
			if c.Schedule == spec.Alone {
				exclusive = append(exclusive, c.ID)
			}
			if c.Level == spec.Should {
				should = append(should, c.ID)
			}
		}
		Expect(cmp.Diff([]string{"concurrency/many-clients", "concurrency/idle-client", "concurrency/non-reading-client", "robustness/sequential-connections", "robustness/no-zombies", "robustness/fd-stable"}, exclusive)).To(BeEmpty())
		Expect(cmp.Diff([]string{"large/throughput", "robustness/no-zombies", "robustness/fd-stable"}, should)).To(BeEmpty())
	})

	It("gives each check its own connection tags", func() {
		bases := map[uint32]string{}
		for _, c := range all {
			b := spec.ConnBase(c.ID)
			Expect(bases).NotTo(HaveKey(b), "%s and %s share connection tags", c.ID, bases[b])
			bases[b] = c.ID
		}
	})

	It("looks checks up by ID", func() {
		c, ok := spec.Lookup("halfclose/no-data")
		Expect(ok).To(BeTrue())
		Expect(c.ID).To(Equal("halfclose/no-data"))
		_, ok = spec.Lookup("basic/nope")
		Expect(ok).To(BeFalse())
	})

	It("returns a fresh slice each time", func() {
		a := spec.All()
		a[0].ID = "changed/by-caller"
		Expect(spec.All()[0].ID).To(Equal(goldenIDs[0]))
	})

	It("reports a missing Dial as an error, not a panic", func() {
		Expect(all[0].Run(context.Background(), nil)).To(MatchError(ContainSubstring("no Env.Dial")))
	})
})
