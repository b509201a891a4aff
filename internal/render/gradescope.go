package render

import (
	"fmt"
	"math"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// GradescopeResults is the results.json of Gradescope's autograder
// specification (written to /autograder/results/results.json).
type GradescopeResults struct {
	// Score is the total score; Gradescope uses it instead of the sum of the tests.
	Score float64 `json:"score"`
	// ExecutionTime is the wall-clock time of the run, in seconds.
	ExecutionTime float64 `json:"execution_time"`
	// Output is shown above the tests: the verdict and what to fix first.
	Output string `json:"output"`
	// OutputFormat is how Output and the tests' outputs are rendered ("text").
	OutputFormat string `json:"output_format,omitempty"`
	// Visibility is the default visibility of the tests ("visible").
	Visibility string `json:"visibility,omitempty"`
	// StdoutVisibility says who sees the autograder's stdout ("hidden").
	StdoutVisibility string `json:"stdout_visibility,omitempty"`
	// Tests holds one entry per check.
	Tests []GradescopeTest `json:"tests"`
}

// GradescopeTest is one entry of GradescopeResults.Tests.
type GradescopeTest struct {
	Name       string   `json:"name"`
	Number     string   `json:"number"` // "category.index", 1-based, in catalogue order
	Score      float64  `json:"score"`
	MaxScore   float64  `json:"max_score"`
	Status     string   `json:"status"` // "passed" or "failed"
	Output     string   `json:"output"`
	Visibility string   `json:"visibility"`
	Tags       []string `json:"tags,omitempty"`
}

// Gradescope statuses and visibilities.
const (
	GradescopePassed  = "passed"
	GradescopeFailed  = "failed"
	GradescopeVisible = "visible"
	GradescopeHidden  = "hidden"
)

// maxGradescopeServerOutput bounds the server output quoted in Output.
const maxGradescopeServerOutput = 4 << 10

// BuildGradescope converts r into Gradescope results scored by rubric. A
// test passes when its check earns points under the rubric's rule (pass or
// warn); its score is then the check's points, else 0.
func BuildGradescope(r *engine.Report, rubric Rubric) *GradescopeResults {
	out := &GradescopeResults{
		ExecutionTime:    math.Round(r.Duration.Seconds()*1000) / 1000,
		OutputFormat:     "text",
		Visibility:       GradescopeVisible,
		StdoutVisibility: GradescopeHidden,
		Tests:            []GradescopeTest{},
	}
	numbers := checkNumbers(r)
	for i, res := range r.Results {
		if res.NotSelected {
			continue // not run, not at stake: Gradescope lists what was graded
		}
		p := rubric.Points(res.Check.ID)
		if !AtStake(r, res) {
			p = 0 // a client check that does not apply to the client's shape
		}
		t := GradescopeTest{
			Name:       res.Check.ID,
			Number:     numbers[i],
			MaxScore:   p,
			Status:     GradescopeFailed,
			Output:     studentDiagnosis(r, res),
			Visibility: GradescopeVisible,
			Tags:       []string{res.Check.Category(), strings.ToLower(res.Check.Level.String()), string(res.Status)},
		}
		if f := res.Failure(); f != nil {
			t.Tags = append(t.Tags, string(f.Kind))
		}
		if Earns(res) {
			t.Status = GradescopePassed
			t.Score = p
		}
		out.Tests = append(out.Tests, t)
	}
	score, maxScore := Score(rubric, r)
	out.Score = score
	out.Output = gradescopeSummary(r, score, maxScore)
	return out
}

// checkNumbers numbers results "C.I": C is the category's 1-based position
// in spec.Categories() (unknown categories follow, in order of appearance)
// and I the check's 1-based position among the report's checks of C.
func checkNumbers(r *engine.Report) []string {
	catNum := make(map[string]int)
	for i, c := range spec.Categories() {
		catNum[c] = i + 1
	}
	next := len(catNum) + 1
	idx := make(map[string]int)
	out := make([]string, len(r.Results))
	for i, res := range r.Results {
		c := res.Check.Category()
		if _, ok := catNum[c]; !ok {
			catNum[c] = next
			next++
		}
		idx[c]++
		out[i] = fmt.Sprintf("%d.%d", catNum[c], idx[c])
	}
	return out
}

func gradescopeSummary(r *engine.Report, score, maxScore float64) string {
	var b strings.Builder
	counts := r.Counts()
	fmt.Fprintf(&b, "echoconf verdict: %s (score %s of %s)\n", strings.ToUpper(string(r.Verdict())), Points(score), Points(maxScore))
	fmt.Fprintf(&b, "%d checks: %d passed, %d failed, %d warnings, %d not judged, %d skipped, %d errors\n",
		len(r.Results), counts[engine.StatusPass], counts[engine.StatusFail],
		counts[engine.StatusWarn], counts[engine.StatusUnjudged], counts[engine.StatusSkip], counts[engine.StatusError])
	if r.Strict {
		b.WriteString("Strict run: SHOULD requirements count like MUST requirements.\n")
	}
	if c := r.Client; c != nil {
		fmt.Fprintf(&b, "Your client was checked as %s.\n", clientWords(c))
	}
	var failed []string
	for _, res := range r.Results {
		if res.Status == engine.StatusFail || res.Status == engine.StatusError {
			failed = append(failed, res.Check.ID)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "Failed: %s\n", strings.Join(failed, ", "))
	}
	if s := r.Server; s != nil {
		if len(s.Deaths) > 0 {
			b.WriteString("Your server died during the run:\n")
			for _, d := range s.Deaths {
				fmt.Fprintf(&b, "  %s\n", d)
			}
		}
		if s.Exit != "" {
			fmt.Fprintf(&b, "Your server exited: %s\n", s.Exit)
		}
		if s.Output != "" {
			out, cut := Truncate(s.Output, maxGradescopeServerOutput)
			b.WriteString("Your server's output (stdout and stderr):\n")
			b.WriteString(out)
			if !strings.HasSuffix(out, "\n") {
				b.WriteString("\n")
			}
			if cut || s.OutputTruncated {
				b.WriteString("[output truncated]\n")
			}
		}
	}
	return b.String()
}

// studentDiagnosis is the student-facing text for one result: the
// requirement, what went wrong (with byte counts and hex windows for a
// failure), a hint on what usually causes it, the command that replays
// the check and the timeline of the exchange.
func studentDiagnosis(r *engine.Report, res engine.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Requirement (%s): %s\n", res.Check.Level, res.Check.Requirement)
	switch res.Status {
	case engine.StatusPass:
		b.WriteString("Passed.\n")
	case engine.StatusSkip:
		fmt.Fprintf(&b, "Skipped: %s\n", SkipReason(res))
	case engine.StatusError:
		fmt.Fprintf(&b, "The checker could not run this check (not your %s's fault): %s\n", Subject(r), ErrText(res.Err))
	case engine.StatusWarn, engine.StatusFail, engine.StatusUnjudged:
		switch {
		case res.Status == engine.StatusUnjudged:
			fmt.Fprintf(&b, "Not judged: %s, so this SHOULD requirement could not be judged; it earns no points.\n", NotJudged(r, "your"))
		case res.Status == engine.StatusWarn && Earns(res):
			b.WriteString("Warning: this SHOULD requirement is violated; it costs no points because the run is not strict.\n")
		case res.Status == engine.StatusWarn:
			fmt.Fprintf(&b, "Warning: this SHOULD requirement could not be verified because the %s did not work, so it earns no points.\n", Subject(r))
		}
		b.WriteString("What went wrong: ")
		if f := res.Failure(); f != nil {
			b.WriteString(FailureReport(res, f))
		} else {
			b.WriteString(ErrText(res.Err))
			b.WriteString("\n")
		}
		if res.ServerDied != "" {
			fmt.Fprintf(&b, "Your server died during this check: %s\n", res.ServerDied)
		}
		if h := Hint(res); h != "" {
			fmt.Fprintf(&b, "Hint: %s\n", h)
		}
		if cmd := Replay(r, res); cmd != "" {
			against := "against your server, with the same payloads"
			if r.Client != nil {
				against = "on your client, with the same messages"
			}
			fmt.Fprintf(&b, "To see it happen, run this check alone %s and timing:\n  %s\n", against, cmd)
		}
		if t := Timeline(res); t != "" {
			b.WriteString("What happened on the connection (time since the first connection):\n")
			b.WriteString(Indent(t, "  "))
		}
	}
	if res.Flaky() {
		fmt.Fprintf(&b, "Flaky: failed %d of %d runs.\n", res.Failures, res.Runs)
	}
	return b.String()
}
