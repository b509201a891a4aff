package report_test

import (
	"bytes"
	"encoding/json"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("Formats", func() {
	It("lists every format, finds one in any case, and rejects unknown formats", func() {
		Expect(report.Names()).To(Equal([]string{"gradescope", "html", "json", "junit", "tap", "tap13", "text"}))
		for _, name := range report.Names() {
			f, err := report.Lookup(strings.ToUpper(name))
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Name()).To(Equal(name))
		}
		_, err := report.Lookup("yaml")
		Expect(err).To(MatchError(`unknown format "yaml": the formats are gradescope, html, json, junit, tap, tap13 and text`))
		var buf bytes.Buffer
		Expect(write("json", &buf, newPassingReport(), report.Options{})).To(Succeed())
		Expect(report.Format{}.Write(&buf, newPassingReport(), report.Options{})).To(MatchError(ContainSubstring("zero Format")))
	})

	It("keeps its registry: a name changed outside does not reach it", func() {
		names := report.Names()
		names[0] = "yaml"
		Expect(report.Names()[0]).To(Equal("gradescope"))
		_, err := report.Lookup("yaml")
		Expect(err).To(HaveOccurred())
	})
})

var _ = Describe("JSON", func() {
	decode := func(r *engine.Report) map[string]any {
		var buf bytes.Buffer
		Expect(write("json", &buf, r, report.Options{})).To(Succeed())
		var doc map[string]any
		Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		return doc
	}

	It("writes schema version 1 with the verdict, counts, server and every check", func() {
		doc := decode(newFixtureReport())
		Expect(doc).To(HaveKeyWithValue("schema_version", 1.0))
		Expect(doc).To(HaveKeyWithValue("tool", "echoconf"))
		Expect(doc).To(HaveKeyWithValue("verdict", "fail"))
		Expect(doc).To(HaveKeyWithValue("target", "./server {port}"))
		Expect(doc).To(HaveKeyWithValue("started", "2026-03-14T15:09:26Z"))
		Expect(doc).To(HaveKeyWithValue("duration_ms", 12345.0))
		Expect(doc).To(HaveKeyWithValue("strict", false))
		Expect(doc["counts"]).To(Equal(map[string]any{"pass": 1.0, "fail": 3.0, "warn": 1.0, "unjudged": 0.0, "skip": 1.0, "error": 1.0}))
		Expect(doc).To(HaveKeyWithValue("seed", 42.0))
		Expect(doc).To(HaveKeyWithValue("timeout_scale", 2.0))
		Expect(doc["server"]).To(And(
			HaveKeyWithValue("pid", 4242.0), HaveKeyWithValue("restarts", 1.0),
			HaveKeyWithValue("deaths", ConsistOf("died during large/1mib: signal: segmentation fault")),
			HaveKeyWithValue("output_truncated", true)))
		checks := doc["checks"].([]any)
		Expect(checks).To(HaveLen(7))
		small := checks[1].(map[string]any)
		Expect(small).To(And(HaveKeyWithValue("id", "basic/small-message"), HaveKeyWithValue("category", "basic"),
			HaveKeyWithValue("level", "MUST"), HaveKeyWithValue("status", "fail"), HaveKeyWithValue("selected", true),
			HaveKeyWithValue("duration_ms", 3.0), HaveKeyWithValue("runs", 1.0), HaveKeyWithValue("failures", 1.0),
			HaveKeyWithValue("flaky", false), HaveKeyWithValue("message", ContainSubstring("wrong-bytes (altered) at offset 17"))))
		f := small["failure"].(map[string]any)
		Expect(f).To(And(HaveKeyWithValue("kind", "wrong-bytes"), HaveKeyWithValue("diagnosis", "altered"),
			HaveKeyWithValue("offset", 17.0), HaveKeyWithValue("ending", "eof"),
			HaveKeyWithValue("expected_hex", HavePrefix("68656c6c6f")), HaveKeyWithValue("actual_hex", ContainSubstring("4f726c64"))))
		Expect(small).To(HaveKeyWithValue("replay", "echoconf check --select basic/small-message --seed 42 --timeout-scale 2 --exec './server {port}'"))
		tl := small["timeline"].(map[string]any)
		Expect(tl).To(And(HaveKeyWithValue("conns", 1.0), HaveKeyWithValue("written", 4096.0), HaveKeyWithValue("omitted", 3.0)))
		Expect(tl["tail"]).To(ContainElement(And(HaveKeyWithValue("op", "read"), HaveKeyWithValue("bytes", 0.0),
			HaveKeyWithValue("end", "eof (the server closed)"), HaveKeyWithValue("at_ms", 2.2))))
		Expect(checks[0]).NotTo(HaveKey("replay"), "a pass has nothing to replay")
		large := checks[2].(map[string]any)
		Expect(large).To(And(HaveKeyWithValue("flaky", true), HaveKeyWithValue("server_died", "signal: segmentation fault")))
		Expect(checks[0]).NotTo(HaveKey("failure"))
		Expect(checks[0]).To(HaveKeyWithValue("message", ""))
		Expect(checks[3].(map[string]any)["failure"]).To(HaveKeyWithValue("cause", "i/o timeout"))
	})

	It("counts a check that could not be judged apart from warnings", func() {
		doc := decode(withUnjudged(newFixtureReport()))
		Expect(doc["counts"]).To(HaveKeyWithValue("unjudged", 1.0))
		Expect(doc["counts"]).To(HaveKeyWithValue("warn", 1.0))
		Expect(doc["checks"].([]any)[5]).To(HaveKeyWithValue("status", "unjudged"))
	})

	It("marks checks left out by the selection and omits the server for an address", func() {
		r := newPassingReport()
		r.Results[0].Status = engine.StatusSkip
		r.Results[0].Err = &spec.Skipped{Reason: engine.ReasonNotSelected}
		r.Results[0].NotSelected = true
		doc := decode(r)
		Expect(doc).To(HaveKeyWithValue("verdict", "pass"))
		Expect(doc).NotTo(HaveKey("server"))
		Expect(doc["checks"].([]any)[0]).To(HaveKeyWithValue("selected", false))
	})
})

var _ = Describe("Text", func() {
	text := func(r *engine.Report, o report.Options) string {
		var buf bytes.Buffer
		Expect(write("text", &buf, r, o)).To(Succeed())
		return buf.String()
	}

	It("lists checks, diagnoses failures and describes the server, without colour", func() {
		out := text(newFixtureReport(), report.Options{})
		Expect(out).NotTo(ContainSubstring("\x1b["))
		Expect(out).To(MatchRegexp(`(?m)^PASS +basic/no-greeting +210ms`))
		Expect(out).To(MatchRegexp(`(?m)^FAIL +large/1mib .*\(2/3 runs failed\).*server died: signal: segmentation fault`))
		Expect(out).To(MatchRegexp(`(?m)^WARN +robustness/no-zombies .*\[SHOULD\]`))
		Expect(out).To(MatchRegexp(`(?m)^ERROR +halfclose/no-data .*too many open files`))
		Expect(out).To(ContainSubstring("--- FAIL basic/small-message (MUST)"))
		Expect(out).To(ContainSubstring("requirement: A small message comes back exactly."))
		Expect(out).To(ContainSubstring("expected from offset 0:"))
		Expect(out).To(ContainSubstring("received from offset 0:"))
		Expect(out).To(ContainSubstring("died during large/1mib: signal: segmentation fault"))
		Expect(out).To(ContainSubstring("| listening on 40123"))
		Expect(out).To(ContainSubstring("?[31mred?[0m ? done"), "control characters of the server are neutralised")
		Expect(out).To(ContainSubstring("1 passed, 3 failed, 1 warned, 1 skipped, 1 errors in 12.35s"))
		Expect(out).To(ContainSubstring("    replay: echoconf check --select basic/small-message --seed 42 --timeout-scale 2 --exec './server {port}'\n"))
		Expect(out).To(MatchRegexp(`(?m)^      \+2\.2ms +conn 1 +read 0 B, ended by eof`))
		Expect(out).To(HavePrefix("echoconf check ./server {port}\n"), "the title line comes first")
		Expect(strings.TrimSpace(out)).To(HaveSuffix("FAIL: not conformant"))
	})

	It("heads the report with a title when given one, and says which check could not be judged", func() {
		out := text(withUnjudged(newFixtureReport()), report.Options{Title: "echoconf grade: alice"})
		Expect(out).To(HavePrefix("echoconf grade: alice\necho" + "conf check ./server {port}\n"))
		Expect(out).To(MatchRegexp(`(?m)^UNJUDGED +robustness/fd-stable`))
		Expect(out).To(ContainSubstring("--- UNJUDGED robustness/fd-stable (SHOULD)\n    requirement: The server's open file count does not grow with finished connections.\n    not judged:"))
		Expect(out).To(ContainSubstring(", 1 not judged,"))
		Expect(text(newFixtureReport(), report.Options{OmitTitle: true})).To(HavePrefix("PASS "))
	})

	It("colours when asked, omits check lines after progress, and counts unselected checks apart", func() {
		r := newPassingReport()
		r.Results[0].Status = engine.StatusSkip
		r.Results[0].Err = &spec.Skipped{Reason: engine.ReasonNotSelected}
		r.Results[0].NotSelected = true
		out := text(r, report.Options{Color: true, OmitChecks: true})
		Expect(out).To(ContainSubstring("\x1b[32m\x1b[1mPASS: conformant"))
		Expect(out).NotTo(ContainSubstring(r.Results[1].Check.ID))
		Expect(out).To(ContainSubstring("(1 not selected)"))

		line := render.CheckLine(r.Results[1], false)
		Expect(line).NotTo(ContainSubstring("\n"))
		Expect(line).To(HavePrefix("PASS     " + r.Results[1].Check.ID))
		Expect(text(r, report.Options{})).To(ContainSubstring("\n"+line+"\n"), "the text report's check lines are the progress lines")
	})
})
