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

// catalogueRow is what the catalogue promises about one check, beyond its Run.
type catalogueRow struct {
	ID          string
	Level       spec.Level
	Timeout     time.Duration
	Requirement string
	Schedule    spec.Schedule
	Needs       spec.Needs
	Measures    spec.Kind
	Probe       bool
}

// goldenRows pins every check's data: reports, rubrics and the engine's
// scheduling read it, so a change here is a change of contract.
var goldenRows = []catalogueRow{
	{"basic/no-greeting", spec.Must, 10 * time.Second, "The server sends nothing before it receives data.",
		spec.Together, spec.NeedsAddress, "", false},
	{"basic/small-message", spec.Must, 10 * time.Second, "A small message comes back exactly.",
		spec.Together, spec.NeedsAddress, "", false},
	{"basic/many-messages", spec.Must, 40 * time.Second, "Many messages pass on one connection, each echoed exactly with no extra bytes.",
		spec.Together, spec.NeedsAddress, "", false},
	{"basic/all-byte-values", spec.Must, 10 * time.Second, "All 256 byte values, NUL included, come back unchanged.",
		spec.Together, spec.NeedsAddress, "", false},
	{"basic/line-endings", spec.Must, 20 * time.Second, "Payloads with and without a trailing newline, and with CRLF, come back byte for byte.",
		spec.Together, spec.NeedsAddress, "", false},
	{"partial/prompt-echo", spec.Must, 15 * time.Second, "A 1-byte message is echoed promptly, without the client sending more or closing.",
		spec.Together, spec.NeedsAddress, "", false},
	{"partial/single-byte-writes", spec.Must, 15 * time.Second, "A message written one byte at a time is echoed in full.",
		spec.Together, spec.NeedsAddress, "", false},
	{"partial/odd-sizes", spec.Must, 40 * time.Second, "Writes of odd, uneven sizes are echoed in full and in order.",
		spec.Together, spec.NeedsAddress, "", false},
	{"partial/paused-writes", spec.Must, 15 * time.Second, "Writes separated by pauses are echoed in full and in order.",
		spec.Together, spec.NeedsAddress, "", false},
	{"partial/buffer-boundaries", spec.Must, 40 * time.Second, "Messages of 4095, 4096, 4097, 65535, 65536 and 65537 bytes are echoed in full.",
		spec.Together, spec.NeedsAddress, "", false},
	{"large/1mib", spec.Must, 15 * time.Second, "1 MiB streamed full-duplex comes back exactly.",
		spec.Together, spec.NeedsAddress, "", false},
	{"large/16mib", spec.Must, 30 * time.Second, "16 MiB streamed full-duplex comes back exactly.",
		spec.Together, spec.NeedsAddress, "", false},
	{"large/64mib", spec.Must, 60 * time.Second, "64 MiB streamed full-duplex comes back exactly.",
		spec.Together, spec.NeedsAddress, "", false},
	{"large/slow-reader", spec.Must, 30 * time.Second, "A client that reads slowly still gets every byte back (the server handles short writes).",
		spec.Together, spec.NeedsAddress, "", false},
	{"large/throughput", spec.Should, 20 * time.Second, "A full-duplex stream is echoed at 500 KB/s or more.",
		spec.Together, spec.NeedsAddress, spec.KindSlow, false},
	{"halfclose/no-data", spec.Must, 10 * time.Second, "When the client half-closes without sending, the server closes its side with a FIN.",
		spec.Together, spec.NeedsAddress, "", false},
	{"halfclose/small-pending", spec.Must, 10 * time.Second, "After the client half-closes with a small message pending, all of it comes back, then a FIN.",
		spec.Together, spec.NeedsAddress, "", true},
	{"halfclose/large-pending", spec.Must, 30 * time.Second, "After the client half-closes with a large payload pending, all of it comes back, then a FIN.",
		spec.Together, spec.NeedsAddress, "", false},
	{"concurrency/many-clients", spec.Must, 30 * time.Second, "At least 100 clients connected at once, sending distinct data in interleaved rounds, each get exactly their own bytes and none starves.",
		spec.Alone, spec.NeedsAddress, "", false},
	{"concurrency/idle-client", spec.Must, 15 * time.Second, "A connected but idle client does not block another client.",
		spec.Alone, spec.NeedsAddress, "", false},
	{"concurrency/non-reading-client", spec.Must, 20 * time.Second, "A client that sends a lot and never reads does not starve the others.",
		spec.Alone, spec.NeedsAddress, "", false},
	{"robustness/reset-mid-echo", spec.Must, 40 * time.Second, "Clients that send a lot and then reset do not take the server down.",
		spec.Disruptive, spec.NeedsAddress, "", false},
	{"robustness/close-without-reading", spec.Must, 40 * time.Second, "Clients that send a lot and then close without reading do not take the server down.",
		spec.Disruptive, spec.NeedsAddress, "", false},
	{"robustness/reset-pending-write", spec.Must, 40 * time.Second, "Clients that half-close, then reset while the server still has their echo to write, do not take the server down (SIGPIPE).",
		spec.Disruptive, spec.NeedsAddress, "", false},
	{"robustness/sequential-connections", spec.Must, 120 * time.Second, "At least 1500 sequential connections each get their echo and EOF.",
		spec.Alone, spec.NeedsAddress, "", false},
	{"robustness/server-alive", spec.Must, 5 * time.Second, "The server process stays alive throughout the run.",
		spec.Last, spec.NeedsProcess, "", false},
	{"robustness/no-zombies", spec.Should, 15 * time.Second, "Finished connections leave no zombie child processes.",
		spec.Alone, spec.NeedsProcess, spec.KindHygiene, false},
	{"robustness/fd-stable", spec.Should, 15 * time.Second, "The server's open file count does not grow with finished connections.",
		spec.Alone, spec.NeedsProcess, spec.KindHygiene, false},
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

	It("has exactly the agreed data for every check", func() {
		var rows []catalogueRow
		for _, c := range all {
			rows = append(rows, catalogueRow{c.ID, c.Level, c.Timeout, c.Requirement, c.Schedule, c.Needs, c.Measures, c.Probe})
		}
		Expect(cmp.Diff(goldenRows, rows)).To(BeEmpty())
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
