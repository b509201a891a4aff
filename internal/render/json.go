package render

import (
	"encoding/hex"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
)

// SchemaVersion is the version of the JSON report's schema (documented
// in conformance/report).
const SchemaVersion = 1

// JSONReport is the document of the json format.
type JSONReport struct {
	SchemaVersion int            `json:"schema_version"`
	Tool          string         `json:"tool"`
	Verdict       string         `json:"verdict"`
	Target        string         `json:"target"`
	Started       time.Time      `json:"started"`
	DurationMS    float64        `json:"duration_ms"`
	Strict        bool           `json:"strict"`
	Seed          uint64         `json:"seed"`
	TimeoutScale  float64        `json:"timeout_scale"`
	Network       string         `json:"network,omitempty"` // "udp" for a UDP target; absent for TCP
	Counts        map[string]int `json:"counts"`
	Server        *JSONServer    `json:"server,omitempty"`
	Client        *JSONClient    `json:"client,omitempty"` // a client report only (echoconf check-client)
	Checks        []JSONCheck    `json:"checks"`
}

// JSONServer describes the exec'd server.
type JSONServer struct {
	Command         string   `json:"command"`
	PID             int      `json:"pid"`
	Restarts        int      `json:"restarts"`
	Exit            string   `json:"exit"`
	Deaths          []string `json:"deaths"`
	Output          string   `json:"output"`
	OutputTruncated bool     `json:"output_truncated"`
}

// JSONClient describes the client a client report judged.
type JSONClient struct {
	Shape string `json:"shape"` // "argument", "interactive" or "stream"
	TTY   bool   `json:"tty"`   // its stdin was a terminal
}

// JSONCheck is one check's result.
type JSONCheck struct {
	ID          string        `json:"id"`
	Category    string        `json:"category"`
	Level       string        `json:"level"`
	Requirement string        `json:"requirement"`
	Status      string        `json:"status"`
	Selected    bool          `json:"selected"`
	Message     string        `json:"message"`
	DurationMS  float64       `json:"duration_ms"`
	Runs        int           `json:"runs"`
	Failures    int           `json:"failures"`
	Flaky       bool          `json:"flaky"`
	ServerDied  string        `json:"server_died"`
	Failure     *JSONFailure  `json:"failure,omitempty"`
	Replay      string        `json:"replay,omitempty"`
	Timeline    *JSONTimeline `json:"timeline,omitempty"`
}

// JSONTimeline is the start and the end of a check's exchange.
type JSONTimeline struct {
	Conns   int         `json:"conns"`
	Written int64       `json:"written"`
	Read    int64       `json:"read"`
	Head    []JSONEvent `json:"head"`
	Omitted int         `json:"omitted"`
	Tail    []JSONEvent `json:"tail"`
}

// JSONEvent is one event of a timeline.
type JSONEvent struct {
	AtMS  float64 `json:"at_ms"`
	Conn  int     `json:"conn"`
	Op    string  `json:"op"`
	Bytes int     `json:"bytes"`
	End   string  `json:"end,omitempty"`
}

// jsonTimeline converts a timeline; nil stays nil.
func jsonTimeline(t *engine.Timeline) *JSONTimeline {
	if t == nil {
		return nil
	}
	conv := func(es []engine.ExchangeEvent) []JSONEvent {
		out := make([]JSONEvent, 0, len(es))
		for _, e := range es {
			out = append(out, JSONEvent{AtMS: ms(e.At), Conn: e.Conn, Op: e.Op, Bytes: e.Bytes, End: e.End})
		}
		return out
	}
	return &JSONTimeline{Conns: t.Conns, Written: t.Written, Read: t.Read, Head: conv(t.Head), Omitted: t.Omitted, Tail: conv(t.Tail)}
}

// JSONFailure is a spec.Failure; byte windows are lower-case hex.
type JSONFailure struct {
	Kind        string `json:"kind"`
	Diagnosis   string `json:"diagnosis"`
	Expected    string `json:"expected"`
	Actual      string `json:"actual"`
	Sent        int64  `json:"sent"`
	Received    int64  `json:"received"`
	Offset      int64  `json:"offset"`
	WindowStart int64  `json:"window_start"`
	ExpectedHex string `json:"expected_hex"`
	ActualHex   string `json:"actual_hex"`
	Ending      string `json:"ending"`
	Conn        string `json:"conn"`
	Detail      string `json:"detail"`
	Cause       string `json:"cause"`
}

// BuildJSON converts r to the JSON document.
func BuildJSON(r *engine.Report) *JSONReport {
	counts := map[string]int{}
	for _, s := range []engine.Status{engine.StatusPass, engine.StatusFail,
		engine.StatusWarn, engine.StatusUnjudged, engine.StatusSkip, engine.StatusError} {
		counts[string(s)] = 0
	}
	for s, n := range r.Counts() {
		counts[string(s)] = n
	}
	doc := &JSONReport{
		SchemaVersion: SchemaVersion,
		Tool:          "echoconf",
		Verdict:       string(r.Verdict()),
		Target:        r.Target,
		Started:       r.Started.UTC(),
		DurationMS:    ms(r.Duration),
		Strict:        r.Strict,
		Seed:          r.Seed,
		TimeoutScale:  r.TimeoutScale,
		Counts:        counts,
		Network:       udpOnly(r.Network),
		Checks:        make([]JSONCheck, 0, len(r.Results)),
	}
	if s := r.Server; s != nil {
		doc.Server = &JSONServer{Command: s.Command, PID: s.PID, Restarts: s.Restarts, Exit: s.Exit,
			Deaths: append([]string{}, s.Deaths...), Output: s.Output, OutputTruncated: s.OutputTruncated}
	}
	if c := r.Client; c != nil {
		doc.Client = &JSONClient{Shape: c.Shape, TTY: c.TTY}
	}
	for _, res := range r.Results {
		doc.Checks = append(doc.Checks, jsonCheck(r, res))
	}
	return doc
}

// jsonCheck is one result of r in the JSON document.
func jsonCheck(r *engine.Report, res engine.Result) JSONCheck {
	c := JSONCheck{
		ID:          res.Check.ID,
		Category:    res.Check.Category(),
		Level:       res.Check.Level.String(),
		Requirement: res.Check.Requirement,
		Status:      string(res.Status),
		Selected:    !res.NotSelected,
		Message:     Message(res),
		DurationMS:  ms(res.Duration),
		Runs:        res.Runs,
		Failures:    res.Failures,
		Flaky:       res.Flaky(),
		ServerDied:  res.ServerDied,
		Replay:      Replay(r, res),
		Timeline:    jsonTimeline(res.Timeline),
	}
	if f := res.Failure(); f != nil {
		c.Failure = &JSONFailure{
			Kind: string(f.Kind), Diagnosis: string(f.Diagnosis),
			Expected: f.Expected, Actual: f.Actual,
			Sent: f.Sent, Received: f.Received, Offset: f.Offset, WindowStart: f.WindowStart,
			ExpectedHex: hex.EncodeToString(f.ExpectedWindow), ActualHex: hex.EncodeToString(f.ActualWindow),
			Ending: string(f.Ending), Conn: f.Conn, Detail: f.Detail,
		}
		if f.Err != nil {
			c.Failure.Cause = f.Err.Error()
		}
	}
	return c
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// udpOnly is "udp" for a UDP network and "" otherwise, so that a TCP
// report's JSON is what it was before UDP existed.
func udpOnly(network string) string {
	if network == "udp" {
		return network
	}
	return ""
}
