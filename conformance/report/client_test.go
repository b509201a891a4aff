package report_test

import (
	"bytes"
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/validate"
	"github.com/echoconf/echoconf/spec"
)

// clientCommand is the command line of the fixture client report.
const clientCommand = "./client {host} {port}"

// newClientReport builds the report of an interactive client (stdin a
// terminal) against the real client catalogue: every check passes except
// a NUL sent after the message, stale bytes printed, a reset that exits 0,
// a spin after EOF (a warning), a client that did not connect for
// client/gives-up (not judged), and client/large-stream, skipped because
// it does not apply to the shape.
func newClientReport() *engine.Report {
	failures := map[string]struct {
		status engine.Status
		err    error
	}{
		"client/sends-exact": {engine.StatusFail, &spec.Failure{Kind: spec.KindWrongBytes, Diagnosis: spec.DiagExtra,
			Offset: 20, WindowStart: 0, Sent: 21, Received: 21, Ending: spec.EventEOF,
			ExpectedWindow: []byte("echo6a2759eef24df7dd"), ActualWindow: []byte("echo6a2759eef24df7dd\x00"),
			Expected: "the 20 bytes of the message", Actual: "21 bytes that differ from byte 20",
			Detail: "the client sent 1 NUL byte after the message: the string's terminator (strlen+1) or the rest of its buffer (sizeof buf); send exactly strlen bytes"}},
		"client/prints-echo": {engine.StatusFail, &spec.Failure{Kind: spec.KindWrongOutput, Offset: -1, Sent: 65, Received: 65,
			Expected: "each echo printed once", Actual: `bytes of the messages outside their echo: "7d71d5" in "7d71d5<b>\n"`,
			Detail: "a stale buffer or a repeated echo: print exactly the bytes each read returned"}},
		"client/reset": {engine.StatusFail, &spec.Failure{Kind: spec.KindExitStatus, Ending: spec.EventExit, Offset: -1, Sent: 0, Received: 20,
			Expected: "a non-zero exit status and a message on stderr, when the server reset the connection", Actual: "exit status 0",
			Detail: "the exchange failed, so the exit status must say so; its stderr was empty"}},
		"client/no-spin": {engine.StatusWarn, &spec.Failure{Kind: spec.KindHygiene, Offset: -1, Sent: 10, Received: 20,
			Expected: "the client to stop, or wait without using the CPU, once the server closed (at most 50% of the time runnable)",
			Actual:   "it ran or waited to run 98% of the time (used 97% of a CPU)",
			Detail:   "read() returning 0 means the server closed: stop reading, do not loop on it"}},
		"client/gives-up": {engine.StatusUnjudged, &spec.Failure{Kind: spec.KindRefused, Ending: spec.EventExit, Offset: -1,
			Expected: "a connection to echoconf's server", Actual: "no connection; the client ended with exit status 1",
			Detail: `its stderr: "connect: Connection refused\n"`}},
		"client/large-stream": {engine.StatusSkip, &spec.Skipped{Reason: "applies to stream clients only; this client's shape is interactive"}},
	}
	r := &engine.Report{Target: clientCommand, Seed: 7, TimeoutScale: 1.5, Started: fixtureStart, Duration: 5400 * time.Millisecond,
		Network: "tcp", Client: &engine.ClientInfo{Shape: "interactive", TTY: true}}
	for _, c := range spec.Clients() {
		res := engine.Result{Check: c, Status: engine.StatusPass, Duration: 150 * time.Millisecond, Runs: 1}
		if f, ok := failures[c.ID]; ok {
			res.Status, res.Err = f.status, f.err
			if f.status != engine.StatusSkip {
				res.Failures = 1
			} else {
				res.Duration, res.Runs = 0, 0
			}
		}
		r.Results = append(r.Results, res)
	}
	return r
}

// passingClientReport is newClientReport with every check passed but the
// skipped one, of a stream client.
func passingClientReport() *engine.Report {
	r := newClientReport()
	r.Client = &engine.ClientInfo{Shape: "stream"}
	for i := range r.Results {
		r.Results[i].Status, r.Results[i].Err, r.Results[i].Failures = engine.StatusPass, nil, 0
	}
	return r
}

// replayOf is the replay line the fixture client report gives check id.
func replayOf(id string) string {
	return "echoconf check-client --select " + id + " --seed 7 --timeout-scale 1.5 --shape interactive --tty --exec './client {host} {port}'"
}

var _ = Describe("A client report", func() {
	out := func(format string, r *engine.Report, o report.Options) []byte {
		GinkgoHelper()
		var buf bytes.Buffer
		Expect(write(format, &buf, r, o)).To(Succeed())
		return buf.Bytes()
	}

	It("is text titled with the client's command and shape, worded for a client", func() {
		s := string(out("text", newClientReport(), report.Options{}))
		Expect(s).To(HavePrefix("echoconf check-client ./client {host} {port} (interactive client, stdin a terminal)\n"))
		Expect(s).To(ContainSubstring("--- UNJUDGED client/gives-up (SHOULD)\n"))
		Expect(s).To(ContainSubstring("    not judged: the client did not carry out this check's exchange (it never connected, for one), so the requirement could not be judged\n"))
		Expect(s).To(ContainSubstring("    the client sent 21 bytes; echoconf's server sent it 21; then the client closed the connection\n"),
			"bytes counted from the client's side")
		Expect(s).To(ContainSubstring("    got from offset 0:\n      00000000  65 63 68 6f"))
		Expect(s).To(ContainSubstring("    replay: " + replayOf("client/sends-exact") + "\n"))
		Expect(s).NotTo(ContainSubstring("echoconf check --"))
		Expect(s).NotTo(ContainSubstring("the server did not serve"))
		Expect(s).To(HaveSuffix("FAIL: not conformant\n"))
	})

	It("is JSON with a client object, and a server report has none", func() {
		var doc map[string]any
		Expect(json.Unmarshal(out("json", newClientReport(), report.Options{}), &doc)).To(Succeed())
		Expect(doc).To(HaveKeyWithValue("client", map[string]any{"shape": "interactive", "tty": true}))
		Expect(doc).To(HaveKeyWithValue("target", clientCommand))
		Expect(doc).NotTo(HaveKey("server"))
		Expect(doc).NotTo(HaveKey("network"))
		sends := doc["checks"].([]any)[0].(map[string]any)
		Expect(sends).To(HaveKeyWithValue("replay", replayOf("client/sends-exact")))
		Expect(sends["failure"]).To(And(HaveKeyWithValue("kind", "wrong-bytes"), HaveKeyWithValue("diagnosis", "extra"),
			HaveKeyWithValue("received", 21.0), HaveKeyWithValue("actual_hex", HaveSuffix("6400"))))

		for _, r := range []*engine.Report{newFixtureReport(), newPassingReport()} {
			var server map[string]any
			Expect(json.Unmarshal(out("json", r, report.Options{}), &server)).To(Succeed())
			Expect(server).NotTo(HaveKey("client"))
		}
	})

	It("is JUnit valid against the three schemas, with the client's shape as properties", func() {
		raw := out("junit", newClientReport(), report.Options{Hostname: "grader"})
		doc := validateJUnit(raw)
		Expect(string(raw)).To(ContainSubstring(`<property name="client.shape" value="interactive"></property>`))
		Expect(string(raw)).To(ContainSubstring(`<property name="client.tty" value="true"></property>`))
		sends := caseByName(doc, "client/sends-exact")
		Expect(sends.Failure).To(HaveLen(1))
		Expect(attrValue(sends.Failure[0].Attrs, "type")).To(Equal("wrong-bytes"))
		Expect(sends.Failure[0].Text).To(ContainSubstring("hint: send exactly the message's bytes: strlen(msg), not strlen(msg)+1"))
		Expect(sends.Failure[0].Text).To(ContainSubstring("replay: " + replayOf("client/sends-exact") + "\n"))
		unjudged := caseByName(doc, "client/gives-up")
		Expect(unjudged.Skipped).To(HaveLen(1))
		Expect(unjudged.Skipped[0].Text).To(HavePrefix("NOT JUDGED: the client did not carry out this check's exchange"))
		Expect(unjudged.Skipped[0].Text).To(ContainSubstring("hint: the client never connected: does it use the host and port from its arguments"))

		t := junitTotals(raw)
		Expect(t.Passed).To(Equal(7))
		Expect(t.Failed).To(Equal(3))
		Expect(t.Skipped).To(Equal(3), "the warning, the check not judged and the one that does not apply")
		Expect(t.CaseStatus("client/prints-echo")).To(Equal("FAIL"))
		Expect(t.CaseStatus("client/short-reads")).To(Equal("PASS"))
	})

	It("is TAP that tap-parser reads strictly, and prove judges", func() {
		raw := out("tap", newClientReport(), report.Options{})
		d := parseTAP(raw)
		Expect(d.Extra).To(BeEmpty())
		Expect(d.Count).To(Equal(13))
		sends := d.Point("client/sends-exact")
		Expect(sends.OK).To(BeFalse())
		Expect(sends.Diag).To(HaveKeyWithValue("replay", replayOf("client/sends-exact")))
		Expect(sends.Diag).To(HaveKeyWithValue("hint", HavePrefix("send exactly the message's bytes")))
		Expect(d.Point("client/no-spin").Todo).To(HavePrefix("SHOULD requirement violated"))
		Expect(d.Point("client/gives-up").Skip).To(Equal("not judged: the client did not carry out this check's exchange (it never connected, for one)"))
		Expect(d.Point("client/large-stream").Skip).To(HavePrefix("applies to stream clients only"))
		Expect(d.Comments).To(ContainElement("# client: an interactive client, its stdin a terminal"))
		Expect(d.Failures).To(HaveLen(3))

		outFail, err := validate.Prove(out("tap13", newClientReport(), report.Options{}))
		if reason, ok := validate.Absent(err); ok {
			Skip(reason)
		}
		Expect(err).To(HaveOccurred())
		Expect(outFail).To(MatchRegexp(`Failed tests?:\s+1-2, 10`))
		outPass, err := validate.Prove(out("tap13", passingClientReport(), report.Options{}))
		need(err)
		Expect(outPass).To(ContainSubstring("Result: PASS"))
	})

	It("is a Gradescope result scored by the client rubric of its shape, out of 100", func() {
		g := decodeGradescope(out("gradescope", newClientReport(), report.Options{}))
		// Points lost: sends-exact 12, prints-echo 12, reset 8, gives-up 5 (unjudged).
		Expect(*g.Score).To(Equal(100.0 - 12 - 12 - 8 - 5))
		Expect(g.Output).To(HavePrefix("echoconf verdict: FAIL (score 63 of 100)\n"))
		Expect(g.Output).To(ContainSubstring("Your client was checked as an interactive client, its stdin a terminal.\n"))
		byName := map[string]gsTest{}
		var maxScore float64
		for _, t := range g.Tests {
			byName[t.Name] = t
			maxScore += *t.MaxScore
		}
		Expect(maxScore).To(Equal(100.0), "the tests' maxima add up to the score's")
		Expect(*byName["client/large-stream"].MaxScore).To(Equal(0.0))
		Expect(*byName["client/no-spin"].Score).To(Equal(5.0), "a measured SHOULD violation earns its points when not strict")
		Expect(byName["client/reset"].Output).To(ContainSubstring("Hint: when read() returns 0 before the whole echo is back, or -1 (ECONNRESET), the exchange failed"))
		Expect(byName["client/reset"].Output).To(ContainSubstring("To see it happen, run this check alone on your client, with the same messages and timing:\n  " + replayOf("client/reset") + "\n"))
		Expect(byName["client/gives-up"].Output).To(ContainSubstring("Not judged: your client did not carry out this check's exchange"))
		for _, t := range g.Tests {
			Expect(t.Output).NotTo(ContainSubstring("your server"), t.Name)
		}

		g = decodeGradescope(out("gradescope", passingClientReport(), report.Options{}))
		Expect(*g.Score).To(Equal(100.0), "a stream client's rubric puts every check at stake")
	})

	It("scores a UDP server's report with the UDP rubric by default", func() {
		r := &engine.Report{Target: "127.0.0.1:7", Network: "udp", Started: fixtureStart}
		for _, c := range spec.UDP() {
			r.Results = append(r.Results, engine.Result{Check: c, Status: engine.StatusPass, Runs: 1})
		}
		g := decodeGradescope(out("gradescope", r, report.Options{}))
		Expect(*g.Score).To(Equal(100.0))
	})

	It("is an HTML page that chromium lays out, headed for a client and scored with the client rubric of its shape", Label("chromium"), func() {
		rb, err := report.DefaultClientRubric(spec.ShapeInteractive)
		Expect(err).NotTo(HaveOccurred())
		page := out("html", newClientReport(), report.Options{Rubric: rb})
		Expect(string(page)).To(ContainSubstring("<dt>Client</dt><dd>checked as an interactive client, its stdin a terminal</dd>"))
		Expect(string(page)).To(ContainSubstring("The client did not carry out this check&#39;s exchange"))
		Expect(string(page)).NotTo(ContainSubstring("The server"))
		got := renderInChromium(page)
		Expect(got.Rows).To(Equal(13))
		Expect(got.FailRows).To(Equal(3))
		Expect(got.Verdict).To(Equal("FAIL"))
		Expect(got.Headline).To(Equal("The client does not work correctly with an RFC 862 echo server"))
		Expect(got.Score).To(Equal("63\n/ 100 points"), "100, less sends-exact 12, prints-echo 12, reset 8 and the unjudged gives-up 5; the warned no-spin earns its 5")
		Expect(got.ServerShown).To(BeFalse())
		Expect(got.Overflow).To(BeFalse())
		Expect(got.Injected).To(Equal(0), "markup in the client's output is not rendered")
		Expect(got.Replays).To(ContainElement(replayOf("client/prints-echo")))
		Expect(got.FirstMarks).To(Equal([]string{"00", "."}), "the NUL after the message, in hex and as text")
		Expect(got.PrintHidden).To(Equal(0))

		pass := renderInChromium(out("html", passingClientReport(), report.Options{Rubric: rb}))
		Expect(pass.Headline).To(Equal("The client works correctly with an RFC 862 echo server"))
		Expect(pass.Score).To(Equal("100\n/ 100 points"))
	})
})
