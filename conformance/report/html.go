package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

//go:embed html_report.tmpl
var htmlReportTemplate string

//go:embed html_report.css
var htmlReportCSS string

var htmlTemplate = template.Must(template.New("report").Parse(htmlReportTemplate))

// maxHTMLServerOutput bounds the server output embedded in the page.
const maxHTMLServerOutput = 64 << 10

// HTMLOptions controls the HTML report.
type HTMLOptions struct {
	// Title is the page title; default "echoconf: TARGET".
	Title string
	// Heading, when set, heads the page (a submission's name) above the
	// verdict and the target.
	Heading string
	// Rubric, when set, adds a score to the banner and a points column.
	Rubric *Rubric
	// Build, when set, says that the submission did not build: the page
	// says so, scores 0 of the rubric's total, and shows the compiler's
	// output instead of the checks.
	Build *HTMLBuild
}

// HTMLBuild is a build that failed.
type HTMLBuild struct {
	Command string // the build command, if known
	Output  string // the compiler's output
}

// HTML writes r as one self-contained HTML page (the "html" format of
// --format): inline CSS, no scripts and no external assets. It shows a
// verdict banner, the counts, the server process in exec mode, and a row per
// check with its status badge, level, duration and requirement; diagnostics
// (with the hex windows, whose first differing byte and the differing bytes
// after it are marked, the replay command and the timeline) are folded in
// <details> elements, closed on screen and all open on paper (@media print).
// Every text is escaped by html/template.
func HTML(w io.Writer, r *engine.Report) error {
	return HTMLWriter(HTMLOptions{})(w, r)
}

// HTMLWriter returns an HTML reporter with the given options.
func HTMLWriter(o HTMLOptions) func(io.Writer, *engine.Report) error {
	return func(w io.Writer, r *engine.Report) error {
		if err := htmlTemplate.Execute(w, buildHTMLView(r, o)); err != nil {
			return fmt.Errorf("html: %w", err)
		}
		return nil
	}
}

type htmlView struct {
	Title, Heading    string
	Target, Verdict   string
	Build             *HTMLBuild
	Started, Duration string
	Strict            bool
	Score, MaxScore   string
	Columns           int
	Counts            []htmlCount
	Rows              []htmlRow
	Groups            []htmlGroup
	Server            *htmlServer
	CSS               template.CSS
}

type htmlCount struct {
	Status engine.Status
	Label  string
	N      int
}

type htmlGroup struct {
	Name string
	Rows []htmlRow
}

type htmlRow struct {
	ID, Anchor, Level, Requirement  string
	Status                          engine.Status
	StatusLabel, Duration, Points   string
	Summary, Diagnosis, Hint, Flaky string
	Hex                             []htmlHexWindow
	Replay, Timeline                string
}

type htmlServer struct {
	Command, Exit, Output, OutputSize string
	PID, Restarts                     int
	Deaths                            []string
	Truncated                         bool
}

func buildHTMLView(r *engine.Report, o HTMLOptions) htmlView {
	v := htmlView{
		Title:    o.Title,
		Heading:  o.Heading,
		Build:    o.Build,
		Target:   r.Target,
		Verdict:  string(r.Verdict()),
		Started:  r.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
		Duration: humanDuration(r.Duration),
		Strict:   r.Strict,
		Columns:  4,
		CSS:      template.CSS(htmlReportCSS),
	}
	if v.Title == "" {
		v.Title = "echoconf: " + r.Target
	}
	if o.Rubric != nil {
		score, maxScore := o.Rubric.Score(r)
		if o.Build != nil {
			score, maxScore = 0, o.Rubric.Total()
		}
		v.Score, v.MaxScore = formatPoints(score), formatPoints(maxScore)
		v.Columns = 5
	}
	counts := r.Counts()
	notSelected := 0
	for _, res := range r.Results {
		if res.NotSelected {
			notSelected++
		}
	}
	counts[engine.StatusSkip] -= notSelected
	for _, c := range []struct {
		s     engine.Status
		label string
	}{
		{engine.StatusPass, "passed"}, {engine.StatusFail, "failed"}, {engine.StatusWarn, "warnings"},
		{engine.StatusUnjudged, "not judged"}, {engine.StatusSkip, "skipped"}, {engine.StatusError, "errors"},
	} {
		if counts[c.s] > 0 || c.s == engine.StatusPass || c.s == engine.StatusFail {
			v.Counts = append(v.Counts, htmlCount{Status: c.s, Label: c.label, N: counts[c.s]})
		}
	}
	if notSelected > 0 {
		v.Counts = append(v.Counts, htmlCount{Status: engine.StatusSkip, Label: "not selected", N: notSelected})
	}
	groupIndex := make(map[string]int)
	for _, res := range r.Results {
		row := htmlRow{
			ID:          res.Check.ID,
			Anchor:      strings.ReplaceAll(res.Check.ID, "/", "-"),
			Level:       res.Check.Level.String(),
			Requirement: res.Check.Requirement,
			Status:      res.Status,
			StatusLabel: StatusWord(res.Status),
			Duration:    humanDuration(res.Duration),
		}
		if res.Duration == 0 {
			row.Duration = "–" // did not run
		}
		if o.Rubric != nil {
			earned := 0.0
			if Earns(res) {
				earned = o.Rubric.Points(res.Check.ID)
			}
			row.Points = formatPoints(earned) + " / " + formatPoints(o.Rubric.Points(res.Check.ID))
		}
		switch res.Status {
		case engine.StatusFail, engine.StatusWarn, engine.StatusError, engine.StatusUnjudged:
			row.Summary = oneLine(errText(res.Err))
			if res.Status == engine.StatusUnjudged {
				row.Summary = "Not judged: " + row.Summary
			}
			row.Diagnosis = resultDetails(res)
			row.Hint = Hint(res)
			row.Hex = hexWindows(res.Failure())
			row.Replay = ReplayCommand(r, res)
			row.Timeline = timelineText(res)
		case engine.StatusSkip:
			row.Summary = "Skipped: " + oneLine(skipReason(res))
			row.Diagnosis = skipReason(res)
		}
		if res.Flaky() {
			row.Flaky = fmt.Sprintf("flaky: failed %d of %d runs", res.Failures, res.Runs)
		}
		v.Rows = append(v.Rows, row)
		cat := res.Check.Category()
		i, ok := groupIndex[cat]
		if !ok {
			i = len(v.Groups)
			groupIndex[cat] = i
			v.Groups = append(v.Groups, htmlGroup{Name: cat})
		}
		v.Groups[i].Rows = append(v.Groups[i].Rows, row)
	}
	if s := r.Server; s != nil {
		out, cut := truncateText(s.Output, maxHTMLServerOutput)
		v.Server = &htmlServer{
			Command: s.Command, Exit: s.Exit, PID: s.PID, Restarts: s.Restarts, Deaths: s.Deaths,
			Output: out, Truncated: cut || s.OutputTruncated, OutputSize: byteSize(len(s.Output)),
		}
	}
	return v
}

// resultDetails is the folded diagnosis of a result, below its summary:
// the failure's byte counts and cause (its hex windows are rendered apart, with
// the differing bytes marked), or the error, and the server's death.
func resultDetails(res engine.Result) string {
	var b strings.Builder
	if f := res.Failure(); f != nil {
		fmt.Fprintf(&b, "sent %d bytes, received %d bytes", f.Sent, f.Received)
		if f.Ending != spec.EventNone {
			fmt.Fprintf(&b, ", ended by %s", f.Ending)
		}
		b.WriteString("\n")
		if f.Err != nil {
			fmt.Fprintf(&b, "cause: %v\n", f.Err)
		}
	} else {
		b.WriteString(errText(res.Err))
		b.WriteString("\n")
	}
	if res.Status == engine.StatusWarn {
		b.WriteString("This SHOULD requirement is a warning because the run is not strict.\n")
	}
	if res.Status == engine.StatusUnjudged {
		b.WriteString("The server did not serve this check's traffic correctly, so this SHOULD requirement could not be judged.\n")
	}
	if res.Status == engine.StatusError {
		b.WriteString("The check could not run: this is the checker's fault, not the server's.\n")
	}
	if res.ServerDied != "" {
		fmt.Fprintf(&b, "The server died during this check: %s\n", res.ServerDied)
	}
	return b.String()
}

// humanDuration prints d rounded for people: "850ms", "2.41s", "1m05s".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

func byteSize(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
