package report_test

import (
	"bytes"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/validate"
)

var _ = Describe("TAP", func() {
	render := func(r *engine.Report) []byte {
		GinkgoHelper()
		var buf bytes.Buffer
		Expect(write("tap", &buf, r, report.Options{})).To(Succeed())
		return buf.Bytes()
	}
	render13 := func(r *engine.Report) []byte {
		GinkgoHelper()
		var buf bytes.Buffer
		Expect(write("tap13", &buf, r, report.Options{})).To(Succeed())
		return buf.Bytes()
	}

	It("is TAP 14 that tap-parser reads strictly, with a point per check and YAML diagnostics", func() {
		out := render(withUnjudged(newFixtureReport()))
		Expect(string(out)).To(HavePrefix("TAP version 14\n1..7\n"))
		d := parseTAP(out)
		Expect(d.Extra).To(BeEmpty(), "every line is TAP")
		Expect(d.Plan.Start).To(Equal(1))
		Expect(d.Plan.End).To(Equal(7))
		Expect(d.Count).To(Equal(7))

		pass := d.Point("basic/no-greeting")
		Expect(pass).NotTo(BeNil())
		Expect(pass.OK).To(BeTrue())
		Expect(pass.Diag).To(BeNil())

		fail := d.Point("basic/small-message")
		Expect(fail.OK).To(BeFalse())
		Expect(fail.Todo).To(Equal(false))
		Expect(fail.Diag).To(HaveKeyWithValue("severity", "fail"))
		Expect(fail.Diag).To(HaveKeyWithValue("level", "MUST"))
		Expect(fail.Diag).To(HaveKeyWithValue("kind", "wrong-bytes"))
		Expect(fail.Diag).To(HaveKeyWithValue("diagnosis", "altered"))
		Expect(fail.Diag).To(HaveKeyWithValue("offset", BeNumerically("==", 17)))
		Expect(fail.Diag).To(HaveKeyWithValue("sent", BeNumerically("==", 4096)))
		Expect(fail.Diag).To(HaveKeyWithValue("ending", "eof"))
		Expect(fail.Diag).To(HaveKeyWithValue("wanted", "4096 bytes then EOF"), "node-tap's key for what was expected")
		Expect(fail.Diag).To(HaveKeyWithValue("found", "4096 bytes then EOF"), "node-tap's key for what came")
		Expect(fail.Diag).To(HaveKeyWithValue("requirement", "A small message comes back exactly."))
		Expect(fail.Diag["message"]).To(HavePrefix("wrong-bytes (altered) at offset 17"))
		Expect(fail.Diag["wanted_hex"]).To(ContainSubstring("68 65 6c 6c 6f"))
		Expect(fail.Diag["found_hex"]).To(ContainSubstring("|.. wOrld #1|"))
		Expect(fail.Diag["detail"]).To(Equal(`bytes changed in place: "]]>" and <script>alert(1)</script>`), "YAML escaping keeps the text exact")
		Expect(fail.Diag).To(HaveKeyWithValue("replay", "echoconf check --select basic/small-message --seed 42 --timeout-scale 2 --exec './server {port}'"))
		Expect(fail.Diag["timeline"]).To(ContainElement(MatchRegexp(`^\+2\.2ms +conn 1 +read 0 B, ended by eof`)))

		flaky := d.Point("large/1mib")
		Expect(flaky.Diag).To(HaveKeyWithValue("runs", BeNumerically("==", 3)))
		Expect(flaky.Diag).To(HaveKeyWithValue("failures", BeNumerically("==", 2)))
		Expect(flaky.Diag).To(HaveKeyWithValue("server_died", "signal: segmentation fault"))
		Expect(flaky.Diag).NotTo(HaveKey("offset"), "no byte differed")

		warn := d.Point("robustness/no-zombies")
		Expect(warn.OK).To(BeFalse())
		Expect(warn.Todo).To(HavePrefix("SHOULD requirement violated"), "a warning is a known failure that does not fail the run")
		Expect(warn.Diag).To(HaveKeyWithValue("severity", "warn"))
		Expect(warn.Diag).To(HaveKeyWithValue("level", "SHOULD"))

		unjudged := d.Point("robustness/fd-stable")
		Expect(unjudged.OK).To(BeTrue())
		Expect(unjudged.Skip).To(HavePrefix("not judged"), "neither a pass nor a warning")
		Expect(unjudged.Diag).To(HaveKeyWithValue("severity", "unjudged"))

		errp := d.Point("halfclose/no-data")
		Expect(errp.OK).To(BeFalse())
		Expect(errp.Diag).To(HaveKeyWithValue("severity", "error"))

		Expect(d.Failures).To(HaveLen(4), "3 failures and 1 error fail the run; the warning does not")
		Expect(d.Fail).To(Equal(5), "tap-parser counts the TODO among the not-ok points")
		Expect(d.Todo).To(Equal(1))
		Expect(d.Skip).To(Equal(1))
		Expect(d.OK).To(BeFalse())
		Expect(d.Comments).To(ContainElement("# verdict: fail (1 passed, 3 failed, 1 warnings, 1 not judged, 0 skipped, 1 errors)"))
		Expect(d.Comments).To(ContainElement(`#   <b>bold</b> & \x1b[31mred\x1b[0m \x00 done`), "control bytes of the server's output are escaped")
	})

	It("keeps a plain skip a skip", func() {
		d := parseTAP(render(newFixtureReport()))
		skip := d.Point("robustness/fd-stable")
		Expect(skip.OK).To(BeTrue())
		Expect(skip.Skip).To(Equal("needs the server process (exec mode)"))
	})

	It("makes a SHOULD violation, and a check that could not be judged, plain failures under --strict", func() {
		r := withUnjudged(newFixtureReport())
		r.Strict = true
		r.Results[4].Status = engine.StatusFail
		d := parseTAP(render(r))
		for _, id := range []string{"robustness/no-zombies", "robustness/fd-stable"} {
			p := d.Point(id)
			Expect(p.OK).To(BeFalse(), id)
			Expect(p.Todo).To(Equal(false), id)
			Expect(p.Skip).To(Equal(false), id)
		}
		Expect(d.Failures).To(HaveLen(6))
	})

	It("escapes # in descriptions", func() {
		r := newPassingReport()
		r.Results[0].Check.ID = `odd/na#me\x`
		d := parseTAP(render(r))
		Expect(d.Points[0].Name).To(Equal(`odd/na#me\x`))
		Expect(d.Points[0].Skip).To(Equal(false))
		Expect(d.Points[0].Todo).To(Equal(false))
	})

	It("writes a valid empty run", func() {
		d := parseTAP(render(&engine.Report{Target: "127.0.0.1:1", Started: fixtureStart}))
		Expect(d.Count).To(Equal(0))
		Expect(d.OK).To(BeTrue())
	})

	It("passes a passing report with no failures", func() {
		out := render(newPassingReport())
		d := parseTAP(out)
		Expect(d.OK).To(BeTrue())
		Expect(d.Pass).To(Equal(2))
		Expect(strings.Count(string(out), "  ---")).To(Equal(0))
	})

	It("matches the golden file", func() {
		expectGolden("report.tap", render(newFixtureReport()))
	})

	Describe("TAP 13", func() {
		It("is the same stream declared as version 13", func() {
			r := withUnjudged(newFixtureReport())
			v14, v13 := string(render(r)), string(render13(r))
			Expect(v13).To(HavePrefix("TAP version 13\n"))
			Expect(strings.TrimPrefix(v13, "TAP version 13\n")).To(Equal(strings.TrimPrefix(v14, "TAP version 14\n")))
			d := parseTAP([]byte(v13))
			Expect(d.Extra).To(BeEmpty())
			Expect(d.Failures).To(HaveLen(4))
		})

		It("passes in prove when every check passed, warned, was skipped or could not be judged", func() {
			statuses := map[string]engine.Status{
				"robustness/no-zombies": engine.StatusWarn, "robustness/fd-stable": engine.StatusUnjudged,
				"large/64mib": engine.StatusSkip,
			}
			out, err := validate.Prove(render13(fullCatalogueReport(false, statuses)))
			need(err)
			Expect(out).To(ContainSubstring("Result: PASS"))
		})

		It("fails in prove when a check failed, and prove refuses TAP 14 (why tap13 exists)", func() {
			out, err := validate.Prove(render13(newFixtureReport()))
			if reason, ok := validate.Absent(err); ok {
				Skip(reason)
			}
			Expect(err).To(HaveOccurred())
			Expect(out).To(ContainSubstring("Result: FAIL"))
			Expect(out).To(MatchRegexp(`Failed tests?:\s+2-4, 7`))

			out, err = validate.Prove(render(newPassingReport()))
			Expect(err).To(HaveOccurred(), "prove 3.44 does not know TAP 14; if it passes now, README's note on tap13 is out of date")
			Expect(out).To(ContainSubstring("TAP specified version 14"))
		})
	})
})
