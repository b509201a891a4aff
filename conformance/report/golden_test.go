package report_test

import (
	"bytes"
	"io"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/conformance/report"
)

// Every format and option set against golden files, so that a change to
// any output byte shows.
var _ = Describe("Every format", func() {
	rubric := func() *report.Rubric {
		rb, err := report.DefaultRubric()
		Expect(err).NotTo(HaveOccurred())
		return rb
	}
	cases := []struct {
		name   string
		report func() *conformance.Report
		write  func(io.Writer, *conformance.Report) error
	}{
		{"all.text", newFixtureReport, report.Text},
		{"all-unjudged.text", func() *conformance.Report { return withUnjudged(newFixtureReport()) }, report.Text},
		{"all-colour.text", newFixtureReport, report.TextWriter(report.TextOptions{Color: true})},
		{"all-streamed.text", newFixtureReport, report.TextWriter(report.TextOptions{Color: true, OmitChecks: true, OmitTitle: true})},
		{"all-titled.text", newFixtureReport, report.TextWriter(report.TextOptions{Title: "Submission alice", OutputLines: 1})},
		{"all-passing.text", newPassingReport, report.Text},
		{"all.json", newFixtureReport, report.JSON},
		{"all-unjudged.json", func() *conformance.Report { return withUnjudged(newFixtureReport()) }, report.JSON},
		{"all-passing.json", newPassingReport, report.JSON},
		{"all.tap13", newFixtureReport, report.TAP13},
		{"all-strict.tap", func() *conformance.Report { r := withUnjudged(newFixtureReport()); r.Strict = true; return r }, report.TAP},
		{"all.gradescope.json", newFixtureReport, report.Gradescope},
		{"all-unjudged.gradescope.json", func() *conformance.Report { return withUnjudged(newFixtureReport()) }, report.Gradescope},
		{"all-named.junit.xml", newFixtureReport, report.JUnitWriter(report.JUnitOptions{SuiteName: "echoconf: alice", Hostname: "grader"})},
		{"all-unjudged.junit.xml", func() *conformance.Report { return withUnjudged(newFixtureReport()) }, report.JUnitWriter(report.JUnitOptions{Hostname: "grader"})},
		{"all-plain.html", newFixtureReport, report.HTML},
		{"all-build.html", newPassingReport, report.HTMLWriter(report.HTMLOptions{Title: "echoconf: alice", Heading: "alice",
			Rubric: rubric(), Build: &report.HTMLBuild{Command: "make", Output: "server.c:1: error: <oops>\n"}})},
	}
	for _, c := range cases {
		It("writes "+c.name, func() {
			var buf bytes.Buffer
			Expect(c.write(&buf, c.report())).To(Succeed())
			expectGolden(c.name, buf.Bytes())
		})
	}
})
