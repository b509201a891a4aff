package grade

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

// The files written for each submission, and for the class.
const (
	FileResults = "results.json" // Gradescope
	FileJUnit   = "junit.xml"
	FileText    = "report.txt"
	FileHTML    = "report.html"
	FileSummary = "summary.csv"
	FileIndex   = "index.html"
)

// SummaryHeader is the header row of summary.csv.
var SummaryHeader = []string{"submission", "score", "max_score", "verdict", "failed_checks", "build_ok", "seconds"}

// buildCheck stands for the build in the reports of a submission that did
// not build.
var buildCheck = spec.Check{ID: "build/compile", Requirement: "The submission builds (make, or gcc on its .c files) into its program (the server, or the client).", Level: spec.Must}

// gradescopeResults returns the Gradescope results of res: the engine's
// report scored by rubric, or, when it did not build (or could not be
// graded), a single failed "build" test worth the whole score.
func gradescopeResults(res *Result, rubric *report.Rubric) *render.GradescopeResults {
	if res.Report != nil {
		g := render.BuildGradescope(res.Report, rubric)
		if len(res.Notes) > 0 {
			g.Output += "Grader notes:\n  " + strings.Join(res.Notes, "\n  ") + "\n"
		}
		return g
	}
	var out strings.Builder
	title := "Build"
	switch res.Verdict {
	case VerdictError:
		title = "Grading"
		fmt.Fprintf(&out, "The autograder could not grade this submission (this is not your fault; tell the course staff): %v\n", res.Err)
	default:
		fmt.Fprintf(&out, "Your submission did not build, so no check could run (score 0).\n")
		if res.BuildCommand != "" {
			fmt.Fprintf(&out, "Build command: %s\n", res.BuildCommand)
		}
		fmt.Fprintf(&out, "Output:\n%s", res.BuildOutput)
	}
	return &render.GradescopeResults{
		Score:            0,
		ExecutionTime:    float64(res.Duration.Milliseconds()) / 1000,
		Output:           out.String(),
		OutputFormat:     "text",
		Visibility:       render.GradescopeVisible,
		StdoutVisibility: render.GradescopeHidden,
		Tests: []render.GradescopeTest{{
			Name: strings.ToLower(title), Number: "0.1", Score: 0, MaxScore: res.MaxScore,
			Status: render.GradescopeFailed, Output: out.String(), Visibility: render.GradescopeVisible,
			Tags: []string{"build"},
		}},
	}
}

// buildReport is a report with one failed build check, so that every
// format can show a build failure.
func buildReport(res *Result) *engine.Report {
	msg := res.BuildOutput
	if res.Verdict == VerdictError && res.Err != nil {
		msg = "the grader could not grade this submission: " + res.Err.Error()
	}
	status := engine.StatusFail
	if res.Verdict == VerdictError {
		status = engine.StatusError
	}
	return &engine.Report{
		Target:   res.Submission,
		Started:  time.Now().Add(-res.Duration),
		Duration: res.Duration,
		Results: []engine.Result{{
			Check: buildCheck, Status: status, Err: errors.New(strings.TrimRight(msg, "\n")),
			Duration: res.Duration, Runs: 1, Failures: 1,
		}},
	}
}

// writeSubmission writes results.json, junit.xml, report.txt and
// report.html of res into dir.
func writeSubmission(dir string, res *Result, o Options) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	rep := res.Report
	if rep == nil {
		rep = buildReport(res)
	}
	writers := []struct {
		name  string
		write func(io.Writer) error
	}{
		{FileResults, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(gradescopeResults(res, o.Rubric))
		}},
		{FileJUnit, func(w io.Writer) error {
			return writeFormat("junit", w, rep, report.Options{Title: "echoconf: " + res.Submission})
		}},
		{FileText, func(w io.Writer) error {
			if err := writeFormat("text", w, rep, report.Options{Title: "Submission " + res.Submission}); err != nil {
				return err
			}
			return writeNotes(w, res)
		}},
		{FileHTML, func(w io.Writer) error {
			ho := report.Options{Title: "echoconf: " + res.Submission, Heading: res.Submission, Rubric: o.Rubric}
			if res.Report == nil && res.Verdict == VerdictBuildFailed {
				ho.Build = &report.BuildFailure{Command: res.BuildCommand, Output: res.BuildOutput}
			}
			return writeFormat("html", w, rep, ho)
		}},
	}
	for _, wr := range writers {
		if err := writeFileAtomic(filepath.Join(dir, wr.name), wr.write); err != nil {
			return err
		}
	}
	return nil
}

// writeFormat writes rep in the named format of package report.
func writeFormat(name string, w io.Writer, rep *engine.Report, o report.Options) error {
	f, err := report.Lookup(name)
	if err != nil {
		return err
	}
	return f.Write(w, rep, o)
}

// writeNotes writes the score, the build command, the flaky checks and
// the grader's notes below the text report.
func writeNotes(w io.Writer, res *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nscore: %s of %s\n", points(res.Score), points(res.MaxScore))
	if !res.BuildOK && res.BuildCommand != "" {
		fmt.Fprintf(&b, "build command: %s\n", res.BuildCommand)
	}
	for _, f := range res.Flaky {
		fmt.Fprintf(&b, "flaky: %s\n", f)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFileAtomic writes path through a temporary file and a rename, so a
// reader never sees half a report.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("render %s: %w", filepath.Base(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteSummaryCSV writes the class summary: one row per submission with
// the columns of SummaryHeader. failed_checks is a ";"-separated list.
func WriteSummaryCSV(w io.Writer, results []Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SummaryHeader); err != nil {
		return fmt.Errorf("summary.csv: %w", err)
	}
	for _, r := range results {
		row := []string{r.Submission, points(r.Score), points(r.MaxScore), r.Verdict,
			strings.Join(r.FailedChecks, ";"), strconv.FormatBool(r.BuildOK),
			strconv.FormatFloat(r.Duration.Seconds(), 'f', 1, 64)}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("summary.csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("summary.csv: %w", err)
	}
	return nil
}

//go:embed index.html.tmpl
var indexTemplateText string

var indexTemplate = template.Must(template.New("index").Parse(indexTemplateText))

type indexRow struct {
	Submission, Link, Score, MaxScore, Verdict, Failed, Seconds string
	ScoreValue, SecondsValue                                    float64
	BuildOK                                                     bool
	FailedCount                                                 int
	Notes                                                       []string
}

type chartCategory struct {
	Name   string
	Checks []chartCheck
}

type chartCheck struct {
	ID, Name, Anchor, Level       string
	Passed, Total, Failed, Warned int
	PassPct, WarnPct, UnjudgedPct float64
	FailPct                       float64
	Missed                        bool
	FailedBy, WarnedBy            []chartLink
}

type chartLink struct{ Name, Link string }

type histBin struct {
	Range, Label, Names string
	Count               int
	Pct                 float64
}

func pct(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return math.Round(1000*float64(n)/float64(total)) / 10
}

// classChart arranges TallyChecks by category, with each bar's segments in
// percent of the class and links to the reports of the submissions that
// missed the check, at the check's row.
func classChart(results []Result) []chartCategory {
	var cats []chartCategory
	links := func(names []string, id string) []chartLink {
		var out []chartLink
		for _, n := range names {
			out = append(out, chartLink{Name: n, Link: n + "/" + FileHTML + "#check-" + strings.ReplaceAll(id, "/", "-")})
		}
		return out
	}
	for _, t := range TallyChecks(results) {
		if len(cats) == 0 || cats[len(cats)-1].Name != t.Category {
			cats = append(cats, chartCategory{Name: t.Category})
		}
		total := t.Total()
		_, name, _ := strings.Cut(t.ID, "/")
		c := chartCheck{
			ID: t.ID, Name: name, Anchor: strings.ReplaceAll(t.ID, "/", "-"), Level: t.Level,
			Passed: t.Passed, Total: total, Failed: t.Failed + t.Errors, Warned: t.Warned + t.Unjudged,
			PassPct: pct(t.Passed, total), WarnPct: pct(t.Warned, total), UnjudgedPct: pct(t.Unjudged, total),
			FailPct:  pct(t.Failed+t.Errors, total),
			FailedBy: links(t.FailedBy, t.ID), WarnedBy: links(t.WarnedBy, t.ID),
		}
		c.Missed = len(c.FailedBy)+len(c.WarnedBy) > 0
		cats[len(cats)-1].Checks = append(cats[len(cats)-1].Checks, c)
	}
	return cats
}

func classHistogram(results []Result) []histBin {
	bins := ScoreHistogram(results)
	most := 0
	for _, b := range bins {
		most = max(most, len(b.Submissions))
	}
	var out []histBin
	for i, b := range bins {
		hi := "<"
		if i == len(bins)-1 {
			hi = "≤"
		}
		names := strings.Join(b.Submissions, ", ")
		if names == "" {
			names = "none"
		}
		out = append(out, histBin{
			Range: fmt.Sprintf("%s ≤ score %s %s", points(b.Low), hi, points(b.High)),
			Label: points(b.Low) + "–" + points(b.High), Names: names,
			Count: len(b.Submissions), Pct: pct(len(b.Submissions), most),
		})
	}
	return out
}

// WriteIndexHTML writes the class index, a self-contained page (no
// external resource, font or script source): a chart of every check's
// results across the class, grouped by category, each bar linking to the
// list of the submissions that missed the check (each linking to its row in
// their report); a histogram of the scores; and a table of the
// submissions, sortable by any column (a little inline JavaScript; the
// table reads fine without it), each linking its report. It reads only the
// Results, so merged runs render the same page.
func WriteIndexHTML(w io.Writer, results []Result) error {
	var rows []indexRow
	var passed int
	var sum float64
	for _, r := range results {
		rows = append(rows, indexRow{
			Submission: r.Submission, Link: r.Submission + "/" + FileHTML,
			Score: points(r.Score), MaxScore: points(r.MaxScore), ScoreValue: r.Score,
			Verdict: r.Verdict, Failed: strings.Join(r.FailedChecks, ", "), FailedCount: len(r.FailedChecks), BuildOK: r.BuildOK,
			Seconds: strconv.FormatFloat(r.Duration.Seconds(), 'f', 1, 64), SecondsValue: r.Duration.Seconds(),
			Notes: append(append([]string{}, r.Flaky...), r.Notes...),
		})
		if r.Verdict == VerdictPass {
			passed++
		}
		sum += r.Score
	}
	mean := 0.0
	if len(results) > 0 {
		mean = sum / float64(len(results))
	}
	data := struct {
		Rows                 []indexRow
		Total, Passed        int
		Mean, Generated, Max string
		Categories           []chartCategory
		Bins                 []histBin
	}{rows, len(results), passed, points(mean), time.Now().UTC().Format("2006-01-02 15:04 UTC"), "",
		classChart(results), classHistogram(results)}
	if len(results) > 0 {
		data.Max = points(results[0].MaxScore)
	}
	if err := indexTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("index.html: %w", err)
	}
	return nil
}

func writeClass(out string, results []Result) error {
	if err := writeFileAtomic(filepath.Join(out, FileSummary), func(w io.Writer) error { return WriteSummaryCSV(w, results) }); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(out, FileChecks), func(w io.Writer) error { return WriteChecksCSV(w, results) }); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(out, FileIndex), func(w io.Writer) error { return WriteIndexHTML(w, results) })
}

// points prints a score without trailing zeros ("72", "33.333").
func points(p float64) string {
	return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(p, 'f', 3, 64), "0"), ".")
}
