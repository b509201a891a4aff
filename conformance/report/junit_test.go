package report_test

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/conformance/report"
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

var (
	junitTimestamp = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`)
	junitTime      = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
)

// validateJUnit checks the schema's rules on doc and returns the decoded
// document: required attributes with well-formed values, element order and
// multiplicity, and counts that match the testcases.
func validateJUnit(doc []byte) xmlSuites {
	GinkgoHelper()
	var s xmlSuites
	Expect(xml.Unmarshal(doc, &s)).To(Succeed(), "not well-formed XML")
	Expect(s.Other).To(BeEmpty(), "unexpected elements under <testsuites>")
	Expect(s.Suites).To(HaveLen(1))
	for _, a := range s.Attrs {
		Expect(a.Name.Local).To(BeElementOf("name", "time", "tests", "failures", "disabled", "errors"), "attribute not allowed on <testsuites>")
	}
	suite := s.Suites[0]
	Expect(suite.Other).To(BeEmpty(), "unexpected elements under <testsuite>")
	Expect(suite.Properties).NotTo(BeNil(), "<properties> is required by the Ant schema")
	Expect(suite.SystemOut).NotTo(BeNil(), "<system-out> is required by the Ant schema")
	Expect(suite.SystemErr).NotTo(BeNil(), "<system-err> is required by the Ant schema")
	for _, name := range []string{"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname", "id", "package"} {
		v, ok := attr(suite.Attrs, name)
		Expect(ok).To(BeTrue(), "<testsuite> lacks %q (has %v)", name, attrNames(suite.Attrs))
		if name != "name" && name != "package" {
			Expect(v).NotTo(BeEmpty(), "<testsuite %s> is empty", name)
		}
	}
	ts, _ := attr(suite.Attrs, "timestamp")
	Expect(ts).To(MatchRegexp(junitTimestamp.String()), "timestamp must be an ISO 8601 date-time without zone")
	tm, _ := attr(suite.Attrs, "time")
	Expect(tm).To(MatchRegexp(junitTime.String()))

	var failures, errs, skipped int
	for _, c := range suite.Cases {
		Expect(c.Other).To(BeEmpty(), "unexpected elements under <testcase>")
		for _, name := range []string{"name", "classname", "time"} {
			v, ok := attr(c.Attrs, name)
			Expect(ok).To(BeTrue(), "<testcase> lacks %q", name)
			Expect(v).NotTo(BeEmpty())
		}
		t, _ := attr(c.Attrs, "time")
		Expect(t).To(MatchRegexp(junitTime.String()))
		Expect(len(c.Failure)+len(c.Error)+len(c.Skipped)).To(BeNumerically("<=", 1), "a testcase holds at most one of failure, error, skipped")
		for _, p := range append(append([]xmlProb{}, c.Failure...), c.Error...) {
			for _, name := range []string{"message", "type"} {
				v, ok := attr(p.Attrs, name)
				Expect(ok).To(BeTrue(), "<failure>/<error> lacks %q", name)
				Expect(v).NotTo(BeEmpty())
				Expect(v).NotTo(ContainSubstring("\n"), "attribute %q must be one line", name)
			}
		}
		failures += len(c.Failure)
		errs += len(c.Error)
		skipped += len(c.Skipped)
	}
	count := func(name string) int {
		v, _ := attr(suite.Attrs, name)
		n, err := strconv.Atoi(v)
		Expect(err).NotTo(HaveOccurred(), "<testsuite %s=%q> is not an integer", name, v)
		return n
	}
	Expect(count("tests")).To(Equal(len(suite.Cases)))
	Expect(count("failures")).To(Equal(failures))
	Expect(count("errors")).To(Equal(errs))
	Expect(count("skipped")).To(Equal(skipped))
	for _, name := range []string{"tests", "failures", "errors"} {
		v, _ := attr(s.Attrs, name)
		w, _ := attr(suite.Attrs, name)
		Expect(v).To(Equal(w), "<testsuites %s> must add up its suites", name)
	}
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
	render := func(r *conformance.Report) []byte {
		GinkgoHelper()
		var buf bytes.Buffer
		Expect(report.JUnitWriter(report.JUnitOptions{Hostname: "grader"})(&buf, r)).To(Succeed())
		return buf.Bytes()
	}

	It("follows the schema's rules and maps every status", func() {
		doc := validateJUnit(render(newFixtureReport()))
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

		flaky := caseByName(doc, "large/1mib")
		Expect(flaky.Failure).To(HaveLen(1))
		Expect(flaky.Failure[0].Text).To(ContainSubstring("server died: signal: segmentation fault"))
		Expect(flaky.SystemOut.Text).To(ContainSubstring("FLAKY: failed 2 of 3 runs."))

		warn := caseByName(doc, "robustness/no-zombies")
		Expect(warn.Failure).To(BeEmpty(), "a warning does not fail the verdict, so it is not a <failure>")
		Expect(warn.Error).To(BeEmpty())
		Expect(warn.SystemOut).NotTo(BeNil())
		Expect(warn.SystemOut.Text).To(HavePrefix("WARNING: SHOULD requirement violated"))
		Expect(warn.SystemOut.Text).To(ContainSubstring("12 zombies"))

		skip := caseByName(doc, "robustness/fd-stable")
		Expect(skip.Skipped).To(HaveLen(1))
		Expect(attrValue(skip.Skipped[0].Attrs, "message")).To(Equal("needs the server process (exec mode)"))

		errc := caseByName(doc, "halfclose/no-data")
		Expect(errc.Error).To(HaveLen(1), "a check that could not run is an <error>")
		Expect(errc.Failure).To(BeEmpty())

		Expect(attrValue(suite.Attrs, "failures")).To(Equal("3"))
		Expect(attrValue(suite.Attrs, "errors")).To(Equal("1"))
		Expect(attrValue(suite.Attrs, "skipped")).To(Equal("1"))
		Expect(attrValue(suite.Attrs, "timestamp")).To(Equal("2026-03-14T15:09:26"))
		Expect(attrValue(suite.Attrs, "hostname")).To(Equal("grader"))
		Expect(suite.SystemOut.Text).To(ContainSubstring("died during large/1mib"))
		Expect(suite.SystemOut.Text).To(ContainSubstring("<b>bold</b>"))
		Expect(suite.SystemOut.Text).To(ContainSubstring("[server output truncated]"))
		Expect(suite.SystemOut.Text).NotTo(ContainSubstring("\x00"), "XML 1.0 cannot carry NUL")
	})

	It("writes a valid empty suite for a report without results", func() {
		doc := validateJUnit(render(&conformance.Report{Target: "127.0.0.1:1", Started: fixtureStart}))
		Expect(doc.Suites[0].Cases).To(BeEmpty())
	})

	It("turns a SHOULD violation into a <failure> under --strict", func() {
		r := newFixtureReport()
		r.Strict = true
		for i := range r.Results {
			if r.Results[i].Status == conformance.StatusWarn {
				r.Results[i].Status = conformance.StatusFail
			}
		}
		doc := validateJUnit(render(r))
		Expect(caseByName(doc, "robustness/no-zombies").Failure).To(HaveLen(1))
	})

	It("uses the host name by default", func() {
		var buf bytes.Buffer
		Expect(report.JUnit(&buf, newPassingReport())).To(Succeed())
		doc := validateJUnit(buf.Bytes())
		Expect(attrValue(doc.Suites[0].Attrs, "hostname")).NotTo(BeEmpty())
	})

	It("matches the golden file", func() {
		out := render(newFixtureReport())
		Expect(strings.HasPrefix(string(out), `<?xml version="1.0" encoding="UTF-8"?>`)).To(BeTrue())
		expectGolden("report.junit.xml", out)
	})
})
