package report_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
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
		report func() *engine.Report
		format string
		opts   report.Options
	}{
		{"all.text", newFixtureReport, "text", report.Options{}},
		{"all-unjudged.text", func() *engine.Report { return withUnjudged(newFixtureReport()) }, "text", report.Options{}},
		{"all-colour.text", newFixtureReport, "text", report.Options{Color: true}},
		{"all-streamed.text", newFixtureReport, "text", report.Options{Color: true, OmitChecks: true, OmitTitle: true}},
		{"all-titled.text", newFixtureReport, "text", report.Options{Title: "Submission alice", OutputLines: 1}},
		{"all-passing.text", newPassingReport, "text", report.Options{}},
		{"all.json", newFixtureReport, "json", report.Options{}},
		{"all-unjudged.json", func() *engine.Report { return withUnjudged(newFixtureReport()) }, "json", report.Options{}},
		{"all-passing.json", newPassingReport, "json", report.Options{}},
		{"all.tap13", newFixtureReport, "tap13", report.Options{}},
		{"all-strict.tap", func() *engine.Report { r := withUnjudged(newFixtureReport()); r.Strict = true; return r }, "tap", report.Options{}},
		{"all.gradescope.json", newFixtureReport, "gradescope", report.Options{}},
		{"all-unjudged.gradescope.json", func() *engine.Report { return withUnjudged(newFixtureReport()) }, "gradescope", report.Options{}},
		{"all-named.junit.xml", newFixtureReport, "junit", report.Options{Title: "echoconf: alice", Hostname: "grader"}},
		{"all-unjudged.junit.xml", func() *engine.Report { return withUnjudged(newFixtureReport()) }, "junit", report.Options{Hostname: "grader"}},
		{"all-plain.html", newFixtureReport, "html", report.Options{}},
		{"all-build.html", newPassingReport, "html", report.Options{Title: "echoconf: alice", Heading: "alice",
			Rubric: rubric(), Build: &report.BuildFailure{Command: "make", Output: "server.c:1: error: <oops>\n"}}},
		{"client.text", newClientReport, "text", report.Options{}},
		{"client.json", newClientReport, "json", report.Options{}},
		{"client.junit.xml", newClientReport, "junit", report.Options{Hostname: "grader"}},
		{"client.tap", newClientReport, "tap", report.Options{}},
		{"client.gradescope.json", newClientReport, "gradescope", report.Options{}},
		{"client.html", newClientReport, "html", report.Options{}},
	}
	for _, c := range cases {
		It("writes "+c.name, func() {
			var buf bytes.Buffer
			Expect(write(c.format, &buf, c.report(), c.opts)).To(Succeed())
			expectGolden(c.name, buf.Bytes())
		})
	}
})
