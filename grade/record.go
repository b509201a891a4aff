package grade

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

// record is DIR/NAME/grade.json: one submission's Result, complete enough
// to render the class files again (merge), and written last, atomically,
// so that its presence marks the submission's reports complete (--resume).
type record struct {
	SchemaVersion int                `json:"schema_version"`
	Version       string             `json:"echoconf_version"`
	ConfigSHA256  string             `json:"config_sha256"`
	Submission    string             `json:"submission"`
	Score         float64            `json:"score"`
	MaxScore      float64            `json:"max_score"`
	Verdict       string             `json:"verdict"`
	FailedChecks  []string           `json:"failed_checks"`
	BuildOK       bool               `json:"build_ok"`
	BuildCommand  string             `json:"build_command"`
	BuildOutput   string             `json:"build_output"`
	DurationMS    float64            `json:"duration_ms"`
	Flaky         []string           `json:"flaky"`
	Leftovers     int                `json:"leftovers"`
	Notes         []string           `json:"notes"`
	Error         string             `json:"error"`
	Report        *render.JSONReport `json:"report"`
	// Client describes the client that Report judged; absent for a server.
	Client *recordClient `json:"client,omitempty"`
}

// recordClient is engine.ClientInfo in a record.
type recordClient struct {
	Shape string `json:"shape"`
	TTY   bool   `json:"tty"`
}

func recordOf(res *Result, configHash string) *record {
	r := &record{
		SchemaVersion: ManifestSchemaVersion, Version: Version(), ConfigSHA256: configHash,
		Submission: res.Submission, Score: res.Score, MaxScore: res.MaxScore, Verdict: res.Verdict,
		FailedChecks: res.FailedChecks, BuildOK: res.BuildOK, BuildCommand: res.BuildCommand,
		BuildOutput: res.BuildOutput, DurationMS: float64(res.Duration.Microseconds()) / 1000,
		Flaky: res.Flaky, Leftovers: res.Leftovers, Notes: res.Notes,
	}
	if res.Err != nil {
		r.Error = res.Err.Error()
	}
	if res.Report != nil {
		r.Report = render.BuildJSON(res.Report)
		if c := res.Report.Client; c != nil {
			r.Client = &recordClient{Shape: c.Shape, TTY: c.TTY}
		}
	}
	return r
}

// result turns the record back into a Result. Errors become plain errors
// with the same text; failures, skips and checks keep their types.
func (r *record) result(catalogue []spec.Check) (Result, error) {
	res := Result{
		Submission: r.Submission, Score: r.Score, MaxScore: r.MaxScore, Verdict: r.Verdict,
		FailedChecks: r.FailedChecks, BuildOK: r.BuildOK, BuildCommand: r.BuildCommand,
		BuildOutput: r.BuildOutput, Duration: msDuration(r.DurationMS),
		Flaky: r.Flaky, Leftovers: r.Leftovers, Notes: r.Notes,
	}
	if r.Error != "" {
		res.Err = errors.New(r.Error)
	}
	if r.Report != nil {
		rep, err := reportFromJSON(r.Report, catalogue)
		if err != nil {
			return Result{}, fmt.Errorf("submission %s: %w", r.Submission, err)
		}
		if c := r.Client; c != nil {
			rep.Client = &engine.ClientInfo{Shape: c.Shape, TTY: c.TTY}
		}
		res.Report = rep
	}
	return res, nil
}

func msDuration(ms float64) time.Duration {
	return time.Duration(ms * float64(time.Millisecond))
}

// reportFromJSON is the inverse of render.BuildJSON, up to the types of
// errors that are neither failures nor skips.
func reportFromJSON(j *render.JSONReport, catalogue []spec.Check) (*engine.Report, error) {
	byID := make(map[string]spec.Check, len(catalogue))
	for _, c := range catalogue {
		byID[c.ID] = c
	}
	rep := &engine.Report{Target: j.Target, Started: j.Started, Duration: msDuration(j.DurationMS), Strict: j.Strict,
		Seed: j.Seed, TimeoutScale: j.TimeoutScale, Exec: j.Server != nil, Network: j.Network}
	if rep.Network == "" {
		rep.Network = "tcp" // the JSON report names only UDP
	}
	if s := j.Server; s != nil {
		rep.Server = &engine.ServerInfo{Command: s.Command, PID: s.PID, Restarts: s.Restarts, Exit: s.Exit,
			Deaths: s.Deaths, Output: s.Output, OutputTruncated: s.OutputTruncated}
	}
	for _, c := range j.Checks {
		check, ok := byID[c.ID]
		if !ok {
			check = spec.Check{ID: c.ID, Requirement: c.Requirement, Level: spec.Must}
			if c.Level == spec.Should.String() {
				check.Level = spec.Should
			}
		}
		res := engine.Result{Check: check, Status: engine.Status(c.Status), Duration: msDuration(c.DurationMS),
			Runs: c.Runs, Failures: c.Failures, ServerDied: c.ServerDied, Timeline: timelineFromJSON(c.Timeline),
			NotSelected: !c.Selected}
		switch {
		case c.Failure != nil:
			f, err := failureFromJSON(c.Failure)
			if err != nil {
				return nil, fmt.Errorf("check %s: %w", c.ID, err)
			}
			res.Err = f
		case res.Status == engine.StatusSkip && strings.HasPrefix(c.Message, "skipped: "):
			res.Err = &spec.Skipped{Reason: strings.TrimPrefix(c.Message, "skipped: ")}
		case c.Message != "" && c.Message != c.Status:
			res.Err = errors.New(c.Message)
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// timelineFromJSON is the inverse of the JSON report's timeline.
func timelineFromJSON(j *render.JSONTimeline) *engine.Timeline {
	if j == nil {
		return nil
	}
	conv := func(es []render.JSONEvent) []engine.ExchangeEvent {
		out := make([]engine.ExchangeEvent, 0, len(es))
		for _, e := range es {
			out = append(out, engine.ExchangeEvent{At: msDuration(e.AtMS), Conn: e.Conn, Op: e.Op, Bytes: e.Bytes, End: e.End})
		}
		return out
	}
	return &engine.Timeline{Head: conv(j.Head), Tail: conv(j.Tail), Omitted: j.Omitted, Conns: j.Conns, Written: j.Written, Read: j.Read}
}

func failureFromJSON(j *render.JSONFailure) (*spec.Failure, error) {
	f := &spec.Failure{
		Kind: spec.Kind(j.Kind), Diagnosis: spec.Diagnosis(j.Diagnosis), Expected: j.Expected, Actual: j.Actual,
		Sent: j.Sent, Received: j.Received, Offset: j.Offset, WindowStart: j.WindowStart,
		Ending: spec.Event(j.Ending), Conn: j.Conn, Detail: j.Detail,
	}
	var err error
	if f.ExpectedWindow, err = hexBytes(j.ExpectedHex); err != nil {
		return nil, fmt.Errorf("expected_hex: %w", err)
	}
	if f.ActualWindow, err = hexBytes(j.ActualHex); err != nil {
		return nil, fmt.Errorf("actual_hex: %w", err)
	}
	if j.Cause != "" {
		f.Err = errors.New(j.Cause)
	}
	return f, nil
}

func hexBytes(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return hex.DecodeString(s)
}

// writeRecord writes dir/grade.json for res, the submission's completion
// marker.
func writeRecord(dir string, res *Result, configHash string) error {
	return writeJSONFile(filepath.Join(dir, FileManifest), recordOf(res, configHash))
}

// readRecord reads the record of submission name in dir.
func readRecord(dir, name string) (*record, error) {
	var r record
	if err := readJSONFile(filepath.Join(dir, FileManifest), &r); err != nil {
		return nil, err
	}
	if r.SchemaVersion != ManifestSchemaVersion {
		return nil, fmt.Errorf("%s: schema version %d, want %d", filepath.Join(dir, FileManifest), r.SchemaVersion, ManifestSchemaVersion)
	}
	if r.Submission != name {
		return nil, fmt.Errorf("%s: it records submission %q, not %q", filepath.Join(dir, FileManifest), r.Submission, name)
	}
	return &r, nil
}

// completeResult returns the recorded result of submission name under out
// when it can be reused: written by this version with configuration hash,
// graded (not a grader error), and with every report present.
func completeResult(out, name, configHash string, catalogue []spec.Check) (Result, bool) {
	dir := filepath.Join(out, name)
	r, err := readRecord(dir, name)
	if err != nil || r.Version != Version() || r.ConfigSHA256 != configHash || r.Verdict == VerdictError {
		return Result{}, false
	}
	for _, f := range []string{FileResults, FileJUnit, FileText, FileHTML} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || !fi.Mode().IsRegular() {
			return Result{}, false
		}
	}
	res, err := r.result(catalogue)
	return res, err == nil
}

// everyCheck is every catalogue a record's report may come from.
func everyCheck() []spec.Check {
	return slices.Concat(spec.All(), spec.UDP(), spec.Clients())
}
