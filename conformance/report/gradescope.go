package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Gradescope writes r as Gradescope results.json scored with the default
// rubric. It is the "gradescope" format of --format.
func Gradescope(w io.Writer, r *engine.Report) error {
	rb, err := DefaultRubric()
	if err != nil {
		return fmt.Errorf("gradescope: %w", err)
	}
	return GradescopeWriter(rb)(w, r)
}

// GradescopeWriter returns a reporter that writes r as Gradescope
// results.json, scoring each check with rubric.
func GradescopeWriter(rubric *Rubric) func(io.Writer, *engine.Report) error {
	return func(w io.Writer, r *engine.Report) error {
		res := BuildGradescope(r, rubric)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("gradescope: %w", err)
		}
		return nil
	}
}

// BuildGradescope converts r into Gradescope results scored by rubric. A
// test passes when its check earns points under the rubric's rule (pass or
// warn); its score is then the check's points, else 0.
func BuildGradescope(r *engine.Report, rubric *Rubric) *GradescopeResults {
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
	score, maxScore := rubric.Score(r)
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
	fmt.Fprintf(&b, "echoconf verdict: %s (score %s of %s)\n", strings.ToUpper(string(r.Verdict())), formatPoints(score), formatPoints(maxScore))
	fmt.Fprintf(&b, "%d checks: %d passed, %d failed, %d warnings, %d not judged, %d skipped, %d errors\n",
		len(r.Results), counts[engine.StatusPass], counts[engine.StatusFail],
		counts[engine.StatusWarn], counts[engine.StatusUnjudged], counts[engine.StatusSkip], counts[engine.StatusError])
	if r.Strict {
		b.WriteString("Strict run: SHOULD requirements count like MUST requirements.\n")
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
			out, cut := truncateText(s.Output, maxGradescopeServerOutput)
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

// StudentDiagnosis is the student-facing text for one result: the
// requirement, what went wrong (with byte counts and hex windows for a
// failure) and a hint on what usually causes it.
func StudentDiagnosis(res engine.Result) string {
	return studentDiagnosis(nil, res)
}

// studentDiagnosis is StudentDiagnosis with, when r is set, the command
// that replays the check and the timeline of the exchange.
func studentDiagnosis(r *engine.Report, res engine.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Requirement (%s): %s\n", res.Check.Level, res.Check.Requirement)
	switch res.Status {
	case engine.StatusPass:
		b.WriteString("Passed.\n")
	case engine.StatusSkip:
		fmt.Fprintf(&b, "Skipped: %s\n", skipReason(res))
	case engine.StatusError:
		fmt.Fprintf(&b, "The checker could not run this check (not your server's fault): %s\n", errText(res.Err))
	case engine.StatusWarn, engine.StatusFail, engine.StatusUnjudged:
		switch {
		case res.Status == engine.StatusUnjudged:
			b.WriteString("Not judged: your server did not serve this check's traffic correctly, so this SHOULD requirement could not be judged; it earns no points.\n")
		case res.Status == engine.StatusWarn && Earns(res):
			b.WriteString("Warning: this SHOULD requirement is violated; it costs no points because the run is not strict.\n")
		case res.Status == engine.StatusWarn:
			b.WriteString("Warning: this SHOULD requirement could not be verified because the server did not work, so it earns no points.\n")
		}
		b.WriteString("What went wrong: ")
		if f := res.Failure(); f != nil {
			b.WriteString(f.Report())
		} else {
			b.WriteString(errText(res.Err))
			b.WriteString("\n")
		}
		if res.ServerDied != "" {
			fmt.Fprintf(&b, "Your server died during this check: %s\n", res.ServerDied)
		}
		if h := Hint(res); h != "" {
			fmt.Fprintf(&b, "Hint: %s\n", h)
		}
		if r != nil {
			if cmd := ReplayCommand(r, res); cmd != "" {
				fmt.Fprintf(&b, "To see it happen, run this check alone against your server, with the same payloads and timing:\n  %s\n", cmd)
			}
			if t := timelineText(res); t != "" {
				b.WriteString("What happened on the connection (time since the first connection):\n")
				b.WriteString(indentText(t, "  "))
			}
		}
	}
	if res.Flaky() {
		fmt.Fprintf(&b, "Flaky: failed %d of %d runs.\n", res.Failures, res.Runs)
	}
	return b.String()
}

// Hint suggests the usual cause of a failed result, keyed on the failure's
// kind and diagnosis; "" when there is nothing useful to say.
func Hint(res engine.Result) string {
	f := res.Failure()
	if f == nil {
		return ""
	}
	switch f.Kind {
	case spec.KindRefused:
		return "nothing accepted the connection. Does the server listen on the port given on its command line, on all addresses, and keep accepting after the first client?"
	case spec.KindReset:
		return "the server reset the connection: it probably closed the socket with unread data, or crashed. Keep reading until read() returns 0."
	case spec.KindEarlyEOF:
		return "the server closed the connection before echoing everything. Loop until read() returns 0 and write every byte you read (write() may write fewer bytes than asked: loop on short writes)."
	case spec.KindTimeout:
		if res.Check.Category() == spec.CategoryConcurrency {
			return "one client blocked the others. Serve each connection independently (a thread or process per client, or non-blocking I/O with poll/select)."
		}
		return "the echo did not arrive in time. Echo what you read right away instead of waiting for a full buffer, a newline or the end of input."
	case spec.KindWrongBytes:
		switch f.Diagnosis {
		case spec.DiagOtherClient:
			return "bytes from another client arrived on this connection: per-connection state (buffers, file descriptors) is probably shared between threads."
		case spec.DiagReordered, spec.DiagDuplicated, spec.DiagDropped:
			return "bytes were " + string(f.Diagnosis) + ". Write exactly the bytes returned by each read(), using its return value as the length, and resume short writes where they stopped."
		}
		return "the echo differs from what was sent. Treat the data as binary: no string functions (NUL bytes are data), no added or removed newlines, and use read()'s return value as the length."
	case spec.KindExtraBytes:
		return "the server sent bytes the client never sent (a greeting, a prompt, a terminating NUL, or stale buffer contents). Echo only the bytes read."
	case spec.KindNoEOF:
		return "everything was echoed, but the server never closed the connection after the client finished. When read() returns 0, close the socket."
	case spec.KindServerDied:
		return "the server process ended. Check for crashes (SIGPIPE on writing to a closed socket: ignore it or use MSG_NOSIGNAL), and never exit on one client's error."
	case spec.KindHygiene:
		if strings.Contains(res.Check.ID, "zombie") {
			return "finished child processes are not reaped. Call waitpid() (for example from a SIGCHLD handler, or with SA_NOCLDWAIT)."
		}
		return "the server leaks resources per connection. Close every accepted socket (in the parent too, after fork) and free per-client state."
	}
	return ""
}

func skipReason(res engine.Result) string {
	var s *spec.Skipped
	if errors.As(res.Err, &s) {
		return s.Reason
	}
	if res.Err != nil {
		return res.Err.Error()
	}
	return "not selected to run"
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// truncateText returns at most n bytes of s, cut at a rune boundary, and
// whether it cut anything.
func truncateText(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// formatPoints prints points without trailing zeros ("12", "3.333").
func formatPoints(p float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", p), "0"), ".")
}
