package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

//go:embed html_report.tmpl
var htmlReportTemplate string

//go:embed html_report.css
var htmlReportCSS string

var htmlTemplate = template.Must(template.New("report").Parse(htmlReportTemplate))

// maxHTMLServerOutput bounds the server output embedded in the page.
const maxHTMLServerOutput = 64 << 10

// writeHTML writes r as one self-contained HTML page: inline CSS, no
// scripts and no external assets. It shows a verdict banner, the counts,
// the server process in exec mode, and a row per check with its status
// badge, level, duration and requirement; diagnostics (with the hex
// windows, whose first differing byte and the differing bytes after it are
// marked, the replay command and the timeline) are folded in <details>
// elements, closed on screen and all open on paper (@media print). Every
// text is escaped by html/template.
func writeHTML(w io.Writer, r *engine.Report, o Options) error {
	if err := htmlTemplate.Execute(w, buildHTMLView(r, o)); err != nil {
		return fmt.Errorf("html: %w", err)
	}
	return nil
}

type htmlView struct {
	Title, Heading    string
	Target, Verdict   string
	Build             *BuildFailure
	Started, Duration string
	Strict            bool
	Score, MaxScore   string
	Columns           int
	Counts            []htmlCount
	Rows              []htmlRow
	Groups            []htmlGroup
	Server            *htmlServer
	Subject           string // "server" or "client"
	Client            string // how the client was run (a client report)
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

// buildHTMLView gathers what the page shows: the banner, the counts, a
// row per check grouped by category, and the server.
func buildHTMLView(r *engine.Report, o Options) htmlView {
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
		Counts:   htmlCounts(r),
		Subject:  render.Subject(r),
		Client:   render.ClientWords(r),
	}
	if v.Title == "" {
		v.Title = "echoconf: " + r.Target
	}
	if o.Rubric != nil {
		score, maxScore := o.Rubric.Score(r)
		if o.Build != nil {
			score, maxScore = 0, o.Rubric.Total()
		}
		v.Score, v.MaxScore = render.Points(score), render.Points(maxScore)
		v.Columns = 5
	}
	groupIndex := make(map[string]int)
	for _, res := range r.Results {
		row := htmlRowOf(r, res, o.Rubric)
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
		out, cut := render.Truncate(s.Output, maxHTMLServerOutput)
		v.Server = &htmlServer{
			Command: s.Command, Exit: s.Exit, PID: s.PID, Restarts: s.Restarts, Deaths: s.Deaths,
			Output: out, Truncated: cut || s.OutputTruncated, OutputSize: byteSize(len(s.Output)),
		}
	}
	return v
}

// htmlCounts are the banner's counts: passed and failed always, the other
// statuses when some result has them, and the checks not selected apart
// from the skipped ones.
func htmlCounts(r *engine.Report) []htmlCount {
	counts := r.Counts()
	notSelected := 0
	for _, res := range r.Results {
		if res.NotSelected {
			notSelected++
		}
	}
	counts[engine.StatusSkip] -= notSelected
	var out []htmlCount
	for _, c := range []struct {
		s     engine.Status
		label string
	}{
		{engine.StatusPass, "passed"}, {engine.StatusFail, "failed"}, {engine.StatusWarn, "warnings"},
		{engine.StatusUnjudged, "not judged"}, {engine.StatusSkip, "skipped"}, {engine.StatusError, "errors"},
	} {
		if counts[c.s] > 0 || c.s == engine.StatusPass || c.s == engine.StatusFail {
			out = append(out, htmlCount{Status: c.s, Label: c.label, N: counts[c.s]})
		}
	}
	if notSelected > 0 {
		out = append(out, htmlCount{Status: engine.StatusSkip, Label: "not selected", N: notSelected})
	}
	return out
}

// htmlRowOf is the row of one result, with its points when rubric is set.
func htmlRowOf(r *engine.Report, res engine.Result, rubric *Rubric) htmlRow {
	row := htmlRow{
		ID:          res.Check.ID,
		Anchor:      strings.ReplaceAll(res.Check.ID, "/", "-"),
		Level:       res.Check.Level.String(),
		Requirement: res.Check.Requirement,
		Status:      res.Status,
		StatusLabel: render.StatusWord(res.Status),
		Duration:    humanDuration(res.Duration),
	}
	if res.Duration == 0 {
		row.Duration = "–" // did not run
	}
	if rubric != nil {
		p := rubric.Points(res.Check.ID)
		if r.Client != nil && !render.AtStake(r, res) {
			p = 0 // a client check that does not apply to the client's shape
		}
		earned := 0.0
		if render.Earns(res) {
			earned = p
		}
		row.Points = render.Points(earned) + " / " + render.Points(p)
	}
	switch res.Status {
	case engine.StatusFail, engine.StatusWarn, engine.StatusError, engine.StatusUnjudged:
		row.Summary = render.OneLine(render.ErrText(res.Err))
		if res.Status == engine.StatusUnjudged {
			row.Summary = "Not judged: " + row.Summary
		}
		row.Diagnosis = resultDetails(r, res)
		row.Hint = render.Hint(res)
		row.Hex = hexWindows(res.Failure())
		row.Replay = render.Replay(r, res)
		row.Timeline = render.Timeline(res)
	case engine.StatusSkip:
		row.Summary = "Skipped: " + render.OneLine(render.SkipReason(res))
		row.Diagnosis = render.SkipReason(res)
	}
	if res.Flaky() {
		row.Flaky = fmt.Sprintf("flaky: failed %d of %d runs", res.Failures, res.Runs)
	}
	return row
}

// resultDetails is the folded diagnosis of a result, below its summary:
// the failure's byte counts and cause (its hex windows are rendered apart, with
// the differing bytes marked), or the error, and the server's death.
func resultDetails(r *engine.Report, res engine.Result) string {
	var b strings.Builder
	if f := res.Failure(); f != nil {
		if res.Check.Needs == spec.NeedsClient {
			b.WriteString(render.FailureCounts(f))
		} else {
			fmt.Fprintf(&b, "sent %d bytes, received %d bytes", f.Sent, f.Received)
			if f.Ending != spec.EventNone {
				fmt.Fprintf(&b, ", ended by %s", f.Ending)
			}
			b.WriteString("\n")
		}
		if f.Err != nil {
			fmt.Fprintf(&b, "cause: %v\n", f.Err)
		}
	} else {
		b.WriteString(render.ErrText(res.Err))
		b.WriteString("\n")
	}
	if res.Status == engine.StatusWarn {
		b.WriteString("This SHOULD requirement is a warning because the run is not strict.\n")
	}
	if res.Status == engine.StatusUnjudged {
		fmt.Fprintf(&b, "%s, so this SHOULD requirement could not be judged.\n", render.NotJudged(r, "The"))
	}
	if res.Status == engine.StatusError {
		fmt.Fprintf(&b, "The check could not run: this is the checker's fault, not the %s's.\n", render.Subject(r))
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
