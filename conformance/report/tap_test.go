package report_test

import (
	"bytes"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/conformance/report"
)

var _ = Describe("TAP", func() {
	render := func(r *conformance.Report) string {
		GinkgoHelper()
		var buf bytes.Buffer
		Expect(report.TAP(&buf, r)).To(Succeed())
		return buf.String()
	}

	It("is valid TAP 14 with a point per check and YAML diagnostics", func() {
		out := render(newFixtureReport())
		d, err := checkTAP(out)
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(d.Planned).To(Equal(7))
		Expect(d.Points).To(HaveLen(7))

		byDesc := map[string]tapPoint{}
		for _, p := range d.Points {
			byDesc[p.Desc] = p
		}
		Expect(byDesc["basic/no-greeting"].OK).To(BeTrue())
		Expect(byDesc["basic/no-greeting"].YAML).To(BeNil())

		fail := byDesc["basic/small-message"]
		Expect(fail.OK).To(BeFalse())
		Expect(fail.Directive).To(BeEmpty())
		Expect(fail.YAML).To(HaveKeyWithValue("severity", "fail"))
		Expect(fail.YAML).To(HaveKeyWithValue("level", "MUST"))
		Expect(fail.YAML).To(HaveKeyWithValue("kind", "wrong-bytes"))
		Expect(fail.YAML).To(HaveKeyWithValue("diagnosis", "altered"))
		Expect(fail.YAML).To(HaveKeyWithValue("offset", 17))
		Expect(fail.YAML).To(HaveKeyWithValue("sent", 4096))
		Expect(fail.YAML).To(HaveKeyWithValue("ending", "eof"))
		Expect(fail.YAML).To(HaveKeyWithValue("requirement", "A small message comes back exactly."))
		Expect(fail.YAML["message"]).To(HavePrefix("wrong-bytes (altered) at offset 17"))
		Expect(fail.YAML["expected_hex"]).To(ContainSubstring("68 65 6c 6c 6f"))
		Expect(fail.YAML["actual_hex"]).To(ContainSubstring("|.. wOrld #1|"))
		Expect(fail.YAML["detail"]).To(Equal(`bytes changed in place: "]]>" and <script>alert(1)</script>`), "YAML escaping keeps the text exact")

		flaky := byDesc["large/1mib"]
		Expect(flaky.YAML).To(HaveKeyWithValue("runs", 3))
		Expect(flaky.YAML).To(HaveKeyWithValue("failures", 2))
		Expect(flaky.YAML).To(HaveKeyWithValue("server_died", "signal: segmentation fault"))
		Expect(flaky.YAML).NotTo(HaveKey("offset"), "no byte differed")

		warn := byDesc["robustness/no-zombies"]
		Expect(warn.OK).To(BeFalse())
		Expect(warn.Directive).To(Equal("TODO"), "a warning is a known failure that does not fail the run")
		Expect(warn.YAML).To(HaveKeyWithValue("severity", "warn"))
		Expect(warn.YAML).To(HaveKeyWithValue("level", "SHOULD"))

		skip := byDesc["robustness/fd-stable"]
		Expect(skip.OK).To(BeTrue())
		Expect(skip.Directive).To(Equal("SKIP"))
		Expect(skip.Reason).To(Equal("needs the server process (exec mode)"))

		errp := byDesc["halfclose/no-data"]
		Expect(errp.OK).To(BeFalse())
		Expect(errp.YAML).To(HaveKeyWithValue("severity", "error"))

		Expect(d.Failed()).To(Equal(4), "3 failures and 1 error fail the run; the warning does not")
		Expect(d.Comments).To(ContainElement("# verdict: fail (1 passed, 3 failed, 1 warnings, 1 skipped, 1 errors)"))
		Expect(d.Comments).To(ContainElement(`#   <b>bold</b> & \x1b[31mred\x1b[0m \x00 done`), "control bytes of the server's output are escaped")
	})

	It("makes a SHOULD violation a plain failure under --strict", func() {
		r := newFixtureReport()
		r.Strict = true
		r.Results[4].Status = conformance.StatusFail
		d, err := checkTAP(render(r))
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Points[4].OK).To(BeFalse())
		Expect(d.Points[4].Directive).To(BeEmpty())
		Expect(d.Failed()).To(Equal(5))
	})

	It("escapes # in descriptions", func() {
		r := newPassingReport()
		r.Results[0].Check.ID = `odd/na#me\x`
		d, err := checkTAP(render(r))
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Points[0].Desc).To(Equal(`odd/na#me\x`))
		Expect(d.Points[0].Directive).To(BeEmpty())
	})

	It("writes a valid empty run", func() {
		d, err := checkTAP(render(&conformance.Report{Target: "127.0.0.1:1", Started: fixtureStart}))
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Planned).To(Equal(0))
	})

	It("passes a passing report with no failures", func() {
		out := render(newPassingReport())
		d, err := checkTAP(out)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Failed()).To(Equal(0))
		Expect(strings.Count(out, "  ---")).To(Equal(0))
	})

	It("matches the golden file", func() {
		expectGolden("report.tap", []byte(render(newFixtureReport())))
	})
})
