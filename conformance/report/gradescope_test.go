package report_test

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// gsResults and gsTest decode results.json as Gradescope reads it, with
// the field names and JSON types of its autograder specification.
type gsResults struct {
	Score            *float64 `json:"score"`
	ExecutionTime    *float64 `json:"execution_time"`
	Output           string   `json:"output"`
	OutputFormat     string   `json:"output_format"`
	Visibility       string   `json:"visibility"`
	StdoutVisibility string   `json:"stdout_visibility"`
	Tests            []gsTest `json:"tests"`
}

type gsTest struct {
	Name       string   `json:"name"`
	Number     string   `json:"number"`
	Score      *float64 `json:"score"`
	MaxScore   *float64 `json:"max_score"`
	Status     string   `json:"status"`
	Output     string   `json:"output"`
	Visibility string   `json:"visibility"`
	Tags       []string `json:"tags"`
}

func pts(p float64) *float64 { return &p }

// decodeGradescope decodes strictly: an unknown field fails.
func decodeGradescope(doc []byte) gsResults {
	GinkgoHelper()
	var g gsResults
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	Expect(dec.Decode(&g)).To(Succeed())
	return g
}

var _ = Describe("Gradescope", func() {
	var rb *report.Rubric
	BeforeEach(func() {
		var err error
		rb, err = report.ParseRubric([]byte("checks:\n  basic/no-greeting: 4\n  basic/small-message: 6\n  large/1mib: 10\n  concurrency/idle-client: 20\n  robustness/no-zombies: 5\n  robustness/fd-stable: 5\n  halfclose/no-data: 50\n"), spec.All())
		Expect(err).NotTo(HaveOccurred())
	})

	render := func(r *engine.Report) []byte {
		GinkgoHelper()
		var buf bytes.Buffer
		Expect(write("gradescope", &buf, r, report.Options{Rubric: rb})).To(Succeed())
		return buf.Bytes()
	}

	It("writes every field of the autograder specification", func() {
		g := decodeGradescope(render(newFixtureReport()))
		outputs := map[string]string{}
		for _, t := range g.Tests {
			outputs[t.Name] = t.Output
		}
		want := gsResults{
			Score:            pts(9), // no-greeting 4 + the warned no-zombies 5
			ExecutionTime:    pts(12.345),
			OutputFormat:     "text",
			Visibility:       "visible",
			StdoutVisibility: "hidden",
			Tests: []gsTest{
				{Name: "basic/no-greeting", Number: "1.1", Score: pts(4), MaxScore: pts(4), Status: "passed", Visibility: "visible", Tags: []string{"basic", "must", "pass"}},
				{Name: "basic/small-message", Number: "1.2", Score: pts(0), MaxScore: pts(6), Status: "failed", Visibility: "visible", Tags: []string{"basic", "must", "fail", "wrong-bytes"}},
				{Name: "large/1mib", Number: "3.1", Score: pts(0), MaxScore: pts(10), Status: "failed", Visibility: "visible", Tags: []string{"large", "must", "fail", "early-eof"}},
				{Name: "concurrency/idle-client", Number: "5.1", Score: pts(0), MaxScore: pts(20), Status: "failed", Visibility: "visible", Tags: []string{"concurrency", "must", "fail", "timeout"}},
				{Name: "robustness/no-zombies", Number: "6.1", Score: pts(5), MaxScore: pts(5), Status: "passed", Visibility: "visible", Tags: []string{"robustness", "should", "warn", "hygiene"}},
				{Name: "robustness/fd-stable", Number: "6.2", Score: pts(0), MaxScore: pts(5), Status: "failed", Visibility: "visible", Tags: []string{"robustness", "should", "skip"}},
				{Name: "halfclose/no-data", Number: "4.1", Score: pts(0), MaxScore: pts(50), Status: "failed", Visibility: "visible", Tags: []string{"halfclose", "must", "error"}},
			},
		}
		Expect(cmp.Diff(want, g, cmpopts.IgnoreFields(gsResults{}, "Output"), cmpopts.IgnoreFields(gsTest{}, "Output"))).To(BeEmpty())

		Expect(g.Output).To(HavePrefix("echoconf verdict: FAIL (score 9 of 100)\n7 checks: 1 passed, 3 failed, 1 warnings, 0 not judged, 1 skipped, 1 errors\n"))
		Expect(g.Output).To(ContainSubstring("Failed: basic/small-message, large/1mib, concurrency/idle-client, halfclose/no-data\n"))
		Expect(g.Output).To(ContainSubstring("Your server died during the run:\n  died during large/1mib: signal: segmentation fault\n"))
		Expect(g.Output).To(ContainSubstring("Your server's output (stdout and stderr):\nlistening on 40123\n"))
		Expect(g.Output).To(HaveSuffix("[output truncated]\n"))

		Expect(outputs["basic/no-greeting"]).To(Equal("Requirement (MUST): The server sends nothing before it receives data.\nPassed.\n"))
		small := outputs["basic/small-message"]
		Expect(small).To(HavePrefix("Requirement (MUST): A small message comes back exactly.\nWhat went wrong: wrong-bytes (altered) at offset 17"))
		Expect(small).To(ContainSubstring("received from offset 0:\n  00000000  68 65"))
		Expect(small).To(ContainSubstring("Hint: the echo differs from what was sent."))
		Expect(small).To(ContainSubstring("with the same payloads and timing:\n  echoconf check --select basic/small-message --seed 42 --timeout-scale 2 --exec './server {port}'\n"))
		Expect(small).To(MatchRegexp(`What happened on the connection .*:\n  1 connection\(s\), 4096 bytes written, 4096 bytes read\n  \+150µs +conn 1 +connect\n`))
		Expect(outputs["large/1mib"]).To(ContainSubstring("Your server died during this check: signal: segmentation fault\n"))
		Expect(outputs["large/1mib"]).To(HaveSuffix("Flaky: failed 2 of 3 runs.\n"))
		Expect(outputs["concurrency/idle-client"]).To(ContainSubstring("Hint: one client blocked the others."))
		Expect(outputs["robustness/no-zombies"]).To(ContainSubstring("Warning: this SHOULD requirement is violated; it costs no points because the run is not strict."))
		Expect(outputs["robustness/no-zombies"]).To(ContainSubstring("Call waitpid()"))
		Expect(outputs["robustness/fd-stable"]).To(ContainSubstring("Skipped: needs the server process (exec mode)"))
		Expect(outputs["halfclose/no-data"]).To(ContainSubstring("The checker could not run this check (not your server's fault)"))
	})

	It("tells a student that a check could not be judged, and gives it no points", func() {
		var g gsResults
		Expect(json.Unmarshal(render(withUnjudged(newFixtureReport())), &g)).To(Succeed())
		for _, t := range g.Tests {
			if t.Name == "robustness/fd-stable" {
				Expect(t.Status).To(Equal("failed"))
				Expect(*t.Score).To(BeZero())
				Expect(t.Output).To(ContainSubstring("Not judged: your server did not serve this check's traffic correctly"))
				Expect(t.Tags).To(ContainElement("unjudged"))
				return
			}
		}
		Fail("no robustness/fd-stable test")
	})

	It("uses only the specification's status and visibility values and string numbers", func() {
		var raw struct {
			Tests []map[string]any `json:"tests"`
		}
		Expect(json.Unmarshal(render(newFixtureReport()), &raw)).To(Succeed())
		for _, t := range raw.Tests {
			Expect(t["status"]).To(BeElementOf("passed", "failed"))
			Expect(t["visibility"]).To(BeElementOf("hidden", "after_due_date", "after_published", "visible"))
			Expect(t["number"]).To(BeAssignableToTypeOf(""))
			Expect(t["number"]).To(MatchRegexp(`^[0-9]+\.[0-9]+$`))
			Expect(t["score"]).To(BeAssignableToTypeOf(0.0))
			Expect(t["max_score"]).To(BeAssignableToTypeOf(0.0))
		}
	})

	It("scores the whole default rubric with the plain format", func() {
		var buf bytes.Buffer
		Expect(write("gradescope", &buf, fullCatalogueReport(false, map[string]engine.Status{"large/64mib": engine.StatusFail}), report.Options{})).To(Succeed())
		g := decodeGradescope(buf.Bytes())
		def, err := report.DefaultRubric()
		Expect(err).NotTo(HaveOccurred())
		Expect(*g.Score).To(Equal(100 - def.Points("large/64mib")))
		Expect(g.Tests).To(HaveLen(len(spec.All())))
		var sum, maxSum float64
		seen := map[string]bool{}
		for _, t := range g.Tests {
			sum += *t.Score
			maxSum += *t.MaxScore
			Expect(seen[t.Number]).To(BeFalse(), "number %s is used twice", t.Number)
			seen[t.Number] = true
		}
		Expect(sum).To(Equal(*g.Score), "the tests add up to the score")
		Expect(maxSum).To(Equal(100.0))
	})

	It("leaves out checks that --run/--skip did not select, keeping the numbers stable", func() {
		r := fullCatalogueReport(false, nil)
		r.Results[0].Status = engine.StatusSkip
		r.Results[0].Err = &spec.Skipped{Reason: engine.ReasonNotSelected}
		r.Results[0].NotSelected = true
		var buf bytes.Buffer
		Expect(write("gradescope", &buf, r, report.Options{})).To(Succeed())
		g := decodeGradescope(buf.Bytes())
		Expect(g.Tests).To(HaveLen(len(spec.All()) - 1))
		Expect(g.Tests[0].Number).To(Equal("1.2"))
		Expect(strings.HasPrefix(g.Output, "echoconf verdict: PASS")).To(BeTrue())
	})

	It("writes an empty tests array, not null, for an empty report", func() {
		out := render(&engine.Report{Target: "x", Started: fixtureStart})
		Expect(string(out)).To(ContainSubstring(`"tests": []`))
	})
})
