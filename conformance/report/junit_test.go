package report_test

import (
	"bytes"
	"encoding/xml"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/validate"
	"github.com/echoconf/echoconf/spec"
)

// The decoding side of the Ant/Jenkins JUnit schema, kept independent of the
// writer's own types so that the test reads the XML as a CI tool would.
type xmlSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Attrs   []xml.Attr `xml:",any,attr"`
	Suites  []xmlSuite `xml:"testsuite"`
	Other   []xmlAny   `xml:",any"`
}

type xmlSuite struct {
	Attrs      []xml.Attr `xml:",any,attr"`
	Properties *struct{}  `xml:"properties"`
	Cases      []xmlCase  `xml:"testcase"`
	SystemOut  *xmlText   `xml:"system-out"`
	SystemErr  *xmlText   `xml:"system-err"`
	Other      []xmlAny   `xml:",any"`
}

type xmlCase struct {
	Attrs     []xml.Attr `xml:",any,attr"`
	Failure   []xmlProb  `xml:"failure"`
	Error     []xmlProb  `xml:"error"`
	Skipped   []xmlProb  `xml:"skipped"`
	SystemOut *xmlText   `xml:"system-out"`
	Other     []xmlAny   `xml:",any"`
}

type xmlProb struct {
	Attrs []xml.Attr `xml:",any,attr"`
	Text  string     `xml:",chardata"`
}

type xmlText struct {
	Text string `xml:",chardata"`
}

type xmlAny struct {
	XMLName xml.Name
}

func attr(attrs []xml.Attr, name string) (string, bool) {
	for _, a := range attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// attrValue returns the attribute's value, failing when it is missing.
func attrValue(attrs []xml.Attr, name string) string {
	GinkgoHelper()
	v, ok := attr(attrs, name)
	Expect(ok).To(BeTrue(), "missing attribute %q (have %v)", name, attrNames(attrs))
	return v
}

func attrNames(attrs []xml.Attr) []string {
	var out []string
	for _, a := range attrs {
		out = append(out, a.Name.Local)
	}
	return out
}

// validateJUnit validates doc with xmllint against the three JUnit schemas
// and returns it decoded, for the assertions on its content.
func validateJUnit(doc []byte) xmlSuites {
	GinkgoHelper()
	expectValidJUnit(doc)
	var s xmlSuites
	Expect(xml.Unmarshal(doc, &s)).To(Succeed(), "not well-formed XML")
	Expect(s.Attrs).To(BeEmpty(), "the Ant schema allows no attribute on <testsuites>")
	Expect(s.Suites).To(HaveLen(1))
	return s
}

func caseByName(s xmlSuites, name string) xmlCase {
	GinkgoHelper()
	for _, c := range s.Suites[0].Cases {
		if n, _ := attr(c.Attrs, "name"); n == name {
			return c
		}
	}
	Fail("no testcase named " + name)
	return xmlCase{}
}

var _ = Describe("JUnit", func() {
	render := func(r *engine.Report) []byte {
		GinkgoHelper()
		var buf bytes.Buffer
		Expect(write("junit", &buf, r, report.Options{Hostname: "grader"})).To(Succeed())
		return buf.Bytes()
	}

	It("is valid against the Ant, Jenkins xunit and junit-4 schemas, and maps every status", func() {
		doc := validateJUnit(render(withUnjudged(newFixtureReport())))
		suite := doc.Suites[0]
		Expect(suite.Cases).To(HaveLen(7))

		pass := caseByName(doc, "basic/no-greeting")
		Expect(pass.Failure).To(BeEmpty())
		Expect(pass.Error).To(BeEmpty())
		Expect(pass.Skipped).To(BeEmpty())
		Expect(attrValue(pass.Attrs, "classname")).To(Equal("basic"))
		Expect(attrValue(pass.Attrs, "time")).To(Equal("0.210"))

		fail := caseByName(doc, "basic/small-message")
		Expect(fail.Failure).To(HaveLen(1), "a failed check is a <failure>, never an <error>")
		Expect(attrValue(fail.Failure[0].Attrs, "type")).To(Equal("wrong-bytes"))
		Expect(attrValue(fail.Failure[0].Attrs, "message")).To(HavePrefix("wrong-bytes (altered) at offset 17"))
		Expect(fail.Failure[0].Text).To(ContainSubstring("requirement (MUST): A small message comes back exactly."))
		Expect(fail.Failure[0].Text).To(ContainSubstring("expected from offset 0:"))
		Expect(fail.Failure[0].Text).To(ContainSubstring(`<script>alert(1)</script>`), "text survives escaping")
		Expect(fail.Failure[0].Text).To(ContainSubstring("replay: echoconf check --select basic/small-message --seed 42 --timeout-scale 2 --exec './server {port}'\n"))
		Expect(fail.Failure[0].Text).To(ContainSubstring("timeline of the exchange:\n  1 connection(s), 4096 bytes written, 4096 bytes read\n"))
		Expect(fail.Failure[0].Text).To(MatchRegexp(`\+2\.2ms +conn 1 +read 0 B, ended by eof`))
		Expect(fail.Failure[0].Text).To(ContainSubstring("... 3 more events ..."))

		flaky := caseByName(doc, "large/1mib")
		Expect(flaky.Failure).To(HaveLen(1))
		Expect(flaky.Failure[0].Text).To(ContainSubstring("server died: signal: segmentation fault"))
		Expect(flaky.Failure[0].Text).To(HavePrefix("FLAKY: failed 2 of 3 runs."))

		warn := caseByName(doc, "robustness/no-zombies")
		Expect(warn.Failure).To(BeEmpty(), "a warning does not fail the verdict, so it is not a <failure>")
		Expect(warn.Error).To(BeEmpty())
		Expect(warn.Skipped).To(HaveLen(1), "a warning is not a green test either")
		Expect(warn.Skipped[0].Attrs).To(BeEmpty(), "junit-4.xsd allows no attribute on <skipped>")
		Expect(warn.Skipped[0].Text).To(HavePrefix("WARNING: SHOULD requirement violated"))
		Expect(warn.Skipped[0].Text).To(ContainSubstring("12 zombies"))

		unjudged := caseByName(doc, "robustness/fd-stable")
		Expect(unjudged.Skipped).To(HaveLen(1), "a check that could not be judged is neither a pass nor a failure")
		Expect(unjudged.Skipped[0].Text).To(HavePrefix("NOT JUDGED: "))

		errc := caseByName(doc, "halfclose/no-data")
		Expect(errc.Error).To(HaveLen(1), "a check that could not run is an <error>")
		Expect(errc.Failure).To(BeEmpty())

		Expect(attrValue(suite.Attrs, "tests")).To(Equal("7"))
		Expect(attrValue(suite.Attrs, "failures")).To(Equal("3"))
		Expect(attrValue(suite.Attrs, "errors")).To(Equal("1"))
		Expect(attrValue(suite.Attrs, "skipped")).To(Equal("2"))
		Expect(attrValue(suite.Attrs, "timestamp")).To(Equal("2026-03-14T15:09:26"))
		Expect(attrValue(suite.Attrs, "hostname")).To(Equal("grader"))
		Expect(suite.SystemOut.Text).To(ContainSubstring("died during large/1mib"))
		Expect(suite.SystemOut.Text).To(ContainSubstring("<b>bold</b>"))
		Expect(suite.SystemOut.Text).To(ContainSubstring("[server output truncated]"))
		Expect(suite.SystemOut.Text).NotTo(ContainSubstring("\x00"), "XML 1.0 cannot carry NUL")
	})

	It("is counted right by test-results-parser: no warning or unjudged check is a pass", func() {
		t := junitTotals(render(withUnjudged(newFixtureReport())))
		Expect(t.Passed).To(Equal(1), "only basic/no-greeting passed")
		Expect(t.Failed).To(Equal(3))
		Expect(t.Errors).To(Equal(1))
		Expect(t.Skipped).To(Equal(2), "the warning and the check that could not be judged")
		Expect(t.CaseStatus("basic/no-greeting")).To(Equal("PASS"))
		Expect(t.CaseStatus("robustness/no-zombies")).To(Equal("SKIP"))
		Expect(t.CaseStatus("robustness/fd-stable")).To(Equal("SKIP"))
		Expect(t.CaseStatus("halfclose/no-data")).To(Equal("FAIL"))
	})

	It("counts skipped checks apart from passed ones in test-results-parser", func() {
		statuses := map[string]engine.Status{}
		for _, id := range []string{"robustness/no-zombies", "robustness/fd-stable", "large/64mib"} {
			statuses[id] = engine.StatusSkip
		}
		t := junitTotals(render(fullCatalogueReport(false, statuses)))
		Expect(t.Skipped).To(Equal(3))
		Expect(t.Passed).To(Equal(len(spec.All()) - 3))
		Expect(t.Status).To(Equal("PASS"))
	})

	It("is rejected by the schemas when it breaks their rules (the validation can fail)", func() {
		bad := strings.Replace(string(render(newFixtureReport())), "<testsuites>", `<testsuites tests="7">`, 1)
		path := writeTemp("bad.xml", []byte(bad))
		err := validate.XMLLint("ant-junit.xsd", path)
		if reason, ok := validate.Absent(err); ok {
			Skip(reason)
		}
		Expect(err).To(MatchError(ContainSubstring("tests")))
		bad = strings.Replace(string(render(newFixtureReport())), "<skipped>", `<skipped message="x">`, 1)
		err = validate.XMLLint("junit-4.xsd", writeTemp("bad4.xml", []byte(bad)))
		Expect(err).To(MatchError(ContainSubstring("message")))
	})

	It("writes a valid empty suite for a report without results", func() {
		doc := validateJUnit(render(&engine.Report{Target: "127.0.0.1:1", Started: fixtureStart}))
		Expect(doc.Suites[0].Cases).To(BeEmpty())
	})

	It("turns a SHOULD violation, and a check that could not be judged, into a <failure> under --strict", func() {
		r := withUnjudged(newFixtureReport())
		r.Strict = true
		for i := range r.Results {
			if r.Results[i].Status == engine.StatusWarn {
				r.Results[i].Status = engine.StatusFail
			}
		}
		doc := validateJUnit(render(r))
		Expect(caseByName(doc, "robustness/no-zombies").Failure).To(HaveLen(1))
		unjudged := caseByName(doc, "robustness/fd-stable")
		Expect(unjudged.Failure).To(HaveLen(1))
		Expect(attrValue(unjudged.Failure[0].Attrs, "type")).To(Equal("unjudged"))
	})

	It("uses the host name by default", func() {
		var buf bytes.Buffer
		Expect(write("junit", &buf, newPassingReport(), report.Options{})).To(Succeed())
		doc := validateJUnit(buf.Bytes())
		Expect(attrValue(doc.Suites[0].Attrs, "hostname")).NotTo(BeEmpty())
	})

	It("matches the golden file", func() {
		out := render(newFixtureReport())
		Expect(strings.HasPrefix(string(out), `<?xml version="1.0" encoding="UTF-8"?>`)).To(BeTrue())
		expectGolden("report.junit.xml", out)
	})
})
