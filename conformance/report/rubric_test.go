package report_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("Rubric", func() {
	It("ships a default that totals exactly 100 and gives points to every check", func() {
		rb, err := report.DefaultRubric()
		Expect(err).NotTo(HaveOccurred())
		Expect(rb.Total()).To(Equal(100.0))
		for _, c := range spec.All() {
			Expect(rb.Points(c.ID)).To(BeNumerically(">", 0), "the default rubric gives %s no points", c.ID)
		}
		Expect(rb.IDs()).To(HaveLen(len(spec.All())))
	})

	It("lists in the default only IDs of the catalogue", func() {
		_, err := report.ParseRubric(report.DefaultRubricYAML(), spec.All())
		Expect(err).NotTo(HaveOccurred())
	})

	DescribeTable("rejects bad rubrics with an error naming the problem",
		func(doc, want string) {
			_, err := report.ParseRubric([]byte(doc), spec.All())
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("an unknown check ID", "checks:\n  basic/no-such-check: 5\n", `unknown check ID "basic/no-such-check"`),
		Entry("an unknown category", "categories:\n  speed: 5\n", `unknown category "speed"`),
		Entry("an unknown field", "check:\n  basic/small-message: 5\n", "field check not found"),
		Entry("negative points", "checks:\n  basic/small-message: -1\n", "points must be a finite number >= 0"),
		Entry("points that are not numbers", "checks:\n  basic/small-message: lots\n", "cannot unmarshal"),
		Entry("a category with nothing left to split", "checks:\n  halfclose/no-data: 1\n  halfclose/small-pending: 1\n  halfclose/large-pending: 1\ncategories:\n  halfclose: 9\n", `category "halfclose" has points but every one`),
		Entry("not a mapping", "- basic/small-message\n", "cannot unmarshal"),
	)

	It("splits a category's points among its checks without points of their own", func() {
		rb, err := report.ParseRubric([]byte("checks:\n  halfclose/no-data: 4\ncategories:\n  halfclose: 6\n  basic: 10\n"), spec.All())
		Expect(err).NotTo(HaveOccurred())
		Expect(rb.Points("halfclose/no-data")).To(Equal(4.0))
		Expect(rb.Points("halfclose/small-pending")).To(Equal(3.0))
		Expect(rb.Points("halfclose/large-pending")).To(Equal(3.0))
		Expect(rb.Points("basic/small-message")).To(Equal(2.0))
		Expect(rb.Points("large/1mib")).To(Equal(0.0))
		Expect(rb.Total()).To(Equal(20.0))
	})

	It("accepts an empty rubric as zero points", func() {
		rb, err := report.ParseRubric(nil, spec.All())
		Expect(err).NotTo(HaveOccurred())
		Expect(rb.Total()).To(Equal(0.0))
	})

	It("loads a file and names it in errors", func() {
		dir := GinkgoT().TempDir()
		good := filepath.Join(dir, "good.yaml")
		Expect(os.WriteFile(good, []byte("categories:\n  basic: 50\n  large: 50\n"), 0o644)).To(Succeed())
		rb, err := report.LoadRubric(good, spec.All())
		Expect(err).NotTo(HaveOccurred())
		Expect(rb.Total()).To(Equal(100.0))

		bad := filepath.Join(dir, "bad.yaml")
		Expect(os.WriteFile(bad, []byte("checks:\n  nope/x: 1\n"), 0o644)).To(Succeed())
		_, err = report.LoadRubric(bad, spec.All())
		Expect(err).To(MatchError(And(ContainSubstring(bad), ContainSubstring(`"nope/x"`))))

		_, err = report.LoadRubric(filepath.Join(dir, "missing.yaml"), spec.All())
		Expect(err).To(MatchError(ContainSubstring("no such file")))
	})

	Describe("agrees with --strict on SHOULD checks", func() {
		var rb *report.Rubric
		BeforeEach(func() {
			var err error
			rb, err = report.DefaultRubric()
			Expect(err).NotTo(HaveOccurred())
		})

		It("scores everything when every check passes, and the verdict passes", func() {
			r := fullCatalogueReport(false, nil)
			score, maxScore := rb.Score(r)
			Expect(score).To(Equal(100.0))
			Expect(maxScore).To(Equal(100.0))
			Expect(r.Verdict()).To(Equal(engine.VerdictPass))
		})

		for _, c := range spec.All() {
			if c.Level != spec.Should {
				continue
			}
			id := c.ID
			It("costs no points for a violated "+id+" in a normal run, and its points under --strict", func() {
				normal := fullCatalogueReport(false, map[string]engine.Status{id: engine.StatusWarn})
				strict := fullCatalogueReport(true, map[string]engine.Status{id: engine.StatusFail})
				ns, nmax := rb.Score(normal)
				ss, smax := rb.Score(strict)
				Expect(nmax).To(Equal(100.0))
				Expect(smax).To(Equal(100.0))
				Expect(ns).To(Equal(100.0), "a warning does not fail the verdict, so it costs nothing")
				Expect(normal.Verdict()).To(Equal(engine.VerdictPass))
				Expect(ss).To(Equal(100.0-rb.Points(id)), "under --strict the failure costs exactly the check's points")
				Expect(strict.Verdict()).To(Equal(engine.VerdictFail))
			})
		}

		It("gives nothing for a warning caused by a server that does not work", func() {
			r := fullCatalogueReport(false, map[string]engine.Status{"robustness/fd-stable": engine.StatusWarn})
			for i := range r.Results {
				if r.Results[i].Check.ID == "robustness/fd-stable" {
					r.Results[i].Err = &spec.Failure{Kind: spec.KindRefused, Offset: -1, Expected: "the server to accept connections", Actual: "refused"}
				}
			}
			score, maxScore := rb.Score(r)
			Expect(maxScore).To(Equal(100.0))
			Expect(score).To(Equal(100 - rb.Points("robustness/fd-stable")))
		})

		It("gives nothing for a failed, errored or skipped check", func() {
			r := fullCatalogueReport(false, map[string]engine.Status{
				"basic/small-message": engine.StatusFail,
				"large/1mib":          engine.StatusError,
				"halfclose/no-data":   engine.StatusSkip,
			})
			score, maxScore := rb.Score(r)
			Expect(maxScore).To(Equal(100.0))
			Expect(score).To(Equal(100 - rb.Points("basic/small-message") - rb.Points("large/1mib") - rb.Points("halfclose/no-data")))
		})

		It("puts no points at stake for checks left out by --run/--skip", func() {
			r := fullCatalogueReport(false, nil)
			r.Results[0].Status = engine.StatusSkip
			r.Results[0].Err = &spec.Skipped{Reason: engine.ReasonNotSelected}
			r.Results[0].NotSelected = true
			score, maxScore := rb.Score(r)
			Expect(maxScore).To(Equal(100 - rb.Points(r.Results[0].Check.ID)))
			Expect(score).To(Equal(maxScore))
		})
	})
})
