package report

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

// JUnit XML that the Ant schema (JUnit.xsd), the Jenkins xunit schema
// (junit-10.xsd) and the junit-4.xsd of the JUnit 5 platform all accept,
// and that test-results-parser counts right:
//
//	<testsuites>                     no attributes: the Ant schema allows none
//	  <testsuite id package name tests failures errors skipped time timestamp hostname>
//	    <properties><property name value/>...</properties>
//	    <testcase name="check ID" classname="category" time>
//	      at most one of <failure message type>, <error message type>, <skipped>
//	    </testcase>
//	    <system-out>the server's output (exec mode)</system-out>
//	    <system-err/>
//	  </testsuite>
//	</testsuites>
//
// The totals are the suite's attributes; readers that look for them on
// <testsuites> (test-results-parser) fall back to the suite's when they
// are absent. A testcase carries no <system-out> (the Ant schema allows it
// only on the suite), and <skipped> has text but no message attribute
// (junit-4.xsd allows none).
//
// Mapping of statuses:
//   - pass: an empty testcase: the only green one.
//   - fail: <failure message="one-line summary" type="failure kind">, whose
//     text is the requirement, the diagnosis, the replay command and the
//     timeline of the exchange.
//   - error (the check could not run, the checker's fault): <error>.
//   - skip: <skipped>reason</skipped>.
//   - warn (a SHOULD requirement violated in a run that is not strict):
//     <skipped>, whose text starts with "WARNING:" and carries the full
//     diagnosis. It does not fail the build, and no reader shows it as a
//     pass. Under --strict the engine reports it as fail: a <failure>.
//   - unjudged (a SHOULD requirement that could not be judged because the
//     server did not serve the check's traffic correctly): <skipped> whose text starts
//     with "NOT JUDGED:"; under --strict, a <failure> of type "unjudged".
//
// So tests counts every check; failures, errors and skipped count the
// statuses above; the rest passed.

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	ID         int             `xml:"id,attr"`
	Package    string          `xml:"package,attr"`
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  junitText       `xml:"system-out"`
	SystemErr  junitText       `xml:"system-err"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitText    `xml:"skipped"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitText struct {
	Text string `xml:",chardata"`
}

// MarshalXML writes the text with its line breaks as they are (encoding/xml
// escapes them as &#xA; in chardata fields, which is valid but unreadable).
func (t junitText) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return encodeTextElement(e, start, t.Text)
}

// MarshalXML writes the element's attributes and its text with readable
// line breaks.
func (p junitProblem) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start.Attr = append(start.Attr,
		xml.Attr{Name: xml.Name{Local: "message"}, Value: p.Message},
		xml.Attr{Name: xml.Name{Local: "type"}, Value: p.Type})
	return encodeTextElement(e, start, p.Text)
}

// encodeTextElement writes start, text as character data (escaped, invalid
// XML characters replaced by U+FFFD, newlines kept) and the end element.
func encodeTextElement(e *xml.Encoder, start xml.StartElement, text string) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if text != "" {
		if err := e.EncodeToken(xml.CharData(text)); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// maxJUnitServerOutput bounds the server output copied into <system-out>.
const maxJUnitServerOutput = 64 << 10

// writeJUnit writes r as JUnit XML: one suite named o.Title (default
// "echoconf") on host o.Hostname (default os.Hostname(), or "localhost"
// when that fails, as the Ant schema asks).
func writeJUnit(w io.Writer, r *engine.Report, o Options) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(buildJUnit(r, o)); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	return nil
}

// buildJUnit is the document of r: the suite, its totals, a testcase per
// result and, in exec mode, the server.
func buildJUnit(r *engine.Report, o Options) junitSuites {
	name := o.Title
	if name == "" {
		name = "echoconf"
	}
	host := o.Hostname
	if host == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		} else {
			host = "localhost"
		}
	}
	s := junitSuite{
		ID:        0,
		Package:   "echoconf",
		Name:      name,
		Time:      seconds(r.Duration),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
		Hostname:  host,
		Properties: []junitProperty{
			{Name: "target", Value: r.Target},
			{Name: "strict", Value: fmt.Sprint(r.Strict)},
			{Name: "verdict", Value: string(r.Verdict())},
		},
		Cases: []junitCase{},
	}
	for _, res := range r.Results {
		c := junitCaseOf(r, res)
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	if c := r.Client; c != nil {
		s.Properties = append(s.Properties, junitProperty{Name: "client.shape", Value: c.Shape},
			junitProperty{Name: "client.tty", Value: fmt.Sprint(c.TTY)})
	}
	if srv := r.Server; srv != nil {
		s.Properties = append(s.Properties, junitProperty{Name: "server.command", Value: srv.Command},
			junitProperty{Name: "server.pid", Value: fmt.Sprint(srv.PID)},
			junitProperty{Name: "server.restarts", Value: fmt.Sprint(srv.Restarts)})
		if srv.Exit != "" {
			s.Properties = append(s.Properties, junitProperty{Name: "server.exit", Value: srv.Exit})
		}
		s.SystemOut.Text = junitServerOutput(srv)
	}
	return junitSuites{Suites: []junitSuite{s}}
}

// junitCaseOf is the testcase of one result (see the mapping of statuses
// above).
func junitCaseOf(r *engine.Report, res engine.Result) junitCase {
	c := junitCase{Name: res.Check.ID, Classname: res.Check.Category(), Time: seconds(res.Duration)}
	flaky := ""
	if res.Flaky() {
		flaky = fmt.Sprintf("FLAKY: failed %d of %d runs.\n", res.Failures, res.Runs)
	}
	switch res.Status {
	case engine.StatusFail:
		c.Failure = failureElement(r, res)
		c.Failure.Text = flaky + c.Failure.Text
	case engine.StatusError:
		c.Error = &junitProblem{Message: render.OneLine(render.ErrText(res.Err)), Type: "error",
			Text: flaky + "The check could not run (the checker's fault, not the " + render.Subject(r) + "'s).\n" + render.ErrText(res.Err) + "\n" + render.ReplayAndTimeline(r, res)}
	case engine.StatusSkip:
		c.Skipped = &junitText{Text: render.SkipReason(res)}
	case engine.StatusWarn:
		c.Skipped = &junitText{Text: flaky + "WARNING: SHOULD requirement violated (a warning, not a failure, because the run is not strict).\n" +
			resultDiagnosis(r, res)}
	case engine.StatusUnjudged:
		text := flaky + "NOT JUDGED: " + render.NotJudged(r, "the") + ", so its SHOULD requirement could not be judged.\n" +
			resultDiagnosis(r, res)
		if r.Strict {
			c.Failure = &junitProblem{Message: "not judged: " + render.OneLine(render.ErrText(res.Err)), Type: "unjudged", Text: text}
		} else {
			c.Skipped = &junitText{Text: text}
		}
	}
	return c
}

// junitServerOutput is the <system-out> of the suite: the server's deaths
// and its output, bounded.
func junitServerOutput(srv *engine.ServerInfo) string {
	var b strings.Builder
	for _, d := range srv.Deaths {
		fmt.Fprintf(&b, "server %s\n", d)
	}
	out, cut := render.Truncate(srv.Output, maxJUnitServerOutput)
	b.WriteString(out)
	if cut || srv.OutputTruncated {
		b.WriteString("\n[server output truncated]\n")
	}
	return b.String()
}

func failureElement(r *engine.Report, res engine.Result) *junitProblem {
	if f := res.Failure(); f != nil {
		return &junitProblem{Message: render.OneLine(f.Error()), Type: string(f.Kind), Text: resultDiagnosis(r, res)}
	}
	return &junitProblem{Message: render.OneLine(render.ErrText(res.Err)), Type: "failure", Text: resultDiagnosis(r, res)}
}

// resultDiagnosis is the requirement, the failure's full report, the
// server's death, a hint, the replay command and the timeline, for
// machine-facing formats.
func resultDiagnosis(r *engine.Report, res engine.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "requirement (%s): %s\n", res.Check.Level, res.Check.Requirement)
	var f *spec.Failure
	if errors.As(res.Err, &f) {
		b.WriteString(render.FailureReport(res, f))
	} else if res.Err != nil {
		b.WriteString(res.Err.Error())
		b.WriteString("\n")
	}
	if res.ServerDied != "" {
		fmt.Fprintf(&b, "server died: %s\n", res.ServerDied)
	}
	if h := render.Hint(res); h != "" {
		fmt.Fprintf(&b, "hint: %s\n", h)
	}
	b.WriteString(render.ReplayAndTimeline(r, res))
	return b.String()
}

// seconds formats d as decimal seconds with millisecond precision.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
