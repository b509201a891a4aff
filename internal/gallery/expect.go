package gallery

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// Compared reports whether the check id's status is compared for p: a
// client check that does not apply to client p's shape is not; an ID named
// in fail or warn always is; otherwise one in caught_by_any or matched by
// a may_fail pattern is not.
func (p Program) Compared(id string) bool {
	if p.Shape != "" && !appliesTo(id, p.Shape) {
		return false
	}
	for _, named := range [][]string{p.Expect.Fail, p.Expect.Warn, p.Expect.Unjudged} {
		for _, n := range named {
			if n == id {
				return true
			}
		}
	}
	for _, c := range p.Expect.CaughtBy {
		if c == id {
			return false
		}
	}
	for _, pat := range p.Expect.MayFail {
		if ok, _ := path.Match(pat, id); ok {
			return false
		}
	}
	return true
}

// appliesTo reports whether the client check id applies to the shape
// named shape (unknown IDs do: the comparison then shows them).
func appliesTo(id, shape string) bool {
	s, err := spec.ParseShape(shape)
	if err != nil {
		return true
	}
	for _, c := range spec.Clients() {
		if c.ID == id {
			return c.AppliesTo(s)
		}
	}
	return true
}

// ExpectedStatuses maps every compared check ID in ids to the status p
// expects: fail for Expect.Fail, warn for Expect.Warn, pass otherwise.
// IDs matched by may_fail are left out.
func (p Program) ExpectedStatuses(ids []string) map[string]engine.Status {
	want := make(map[string]engine.Status, len(ids))
	for _, id := range ids {
		if p.Compared(id) {
			want[id] = engine.StatusPass
		}
	}
	for _, id := range p.Expect.Fail {
		want[id] = engine.StatusFail
	}
	for _, id := range p.Expect.Warn {
		want[id] = engine.StatusWarn
	}
	for _, id := range p.Expect.Unjudged {
		want[id] = engine.StatusUnjudged
	}
	return want
}

// ObservedStatuses maps the IDs of r's results that p compares to their
// status. Expected IDs missing from the report are absent from the map, so
// a comparison with ExpectedStatuses shows them.
func (p Program) ObservedStatuses(r *engine.Report) map[string]engine.Status {
	got := make(map[string]engine.Status, len(r.Results))
	for _, res := range r.Results {
		if p.Compared(res.Check.ID) {
			got[res.Check.ID] = res.Status
		}
	}
	return got
}

// Outcome is how a run's report measures up to a server's expectation.
type Outcome struct {
	// Met reports whether the verdict and every compared status are as
	// expected.
	Met bool
	// Verdict is the run's verdict.
	Verdict engine.Verdict
	// Failed and Warned list the IDs that failed (or errored) and warned
	// (or could not be judged),
	// in catalogue order.
	Failed []string
	Warned []string
	// Problems says, one line each, where the run differs from the
	// expectation.
	Problems []string
}

// Evaluate measures r against p's expectation over the checks in ids.
func (p Program) Evaluate(r *engine.Report, ids []string) Outcome {
	o := Outcome{Verdict: r.Verdict()}
	for _, res := range r.Results {
		switch res.Status {
		case engine.StatusFail, engine.StatusError:
			o.Failed = append(o.Failed, res.Check.ID)
		case engine.StatusWarn, engine.StatusUnjudged:
			o.Warned = append(o.Warned, res.Check.ID)
		}
	}
	if string(o.Verdict) != p.Expect.Verdict() {
		o.Problems = append(o.Problems, fmt.Sprintf("verdict %s, expected %s", o.Verdict, p.Expect.Verdict()))
	}
	want, got := p.ExpectedStatuses(ids), p.ObservedStatuses(r)
	keys := make([]string, 0, len(want))
	for id := range want {
		keys = append(keys, id)
	}
	sort.Strings(keys)
	for _, id := range keys {
		if g, ok := got[id]; !ok {
			o.Problems = append(o.Problems, fmt.Sprintf("%s: missing from the report, expected %s", id, want[id]))
		} else if g != want[id] {
			o.Problems = append(o.Problems, fmt.Sprintf("%s: %s, expected %s%s", id, g, want[id], why(r, id)))
		}
	}
	if len(p.Expect.CaughtBy) > 0 && !anyFailed(r, p.Expect.CaughtBy) {
		o.Problems = append(o.Problems, fmt.Sprintf("none of %s failed", strings.Join(p.Expect.CaughtBy, ", ")))
	}
	o.Met = len(o.Problems) == 0
	return o
}

// why returns ": " and the failure's one-line summary for id, if any.
func why(r *engine.Report, id string) string {
	for _, res := range r.Results {
		if res.Check.ID == id && res.Err != nil {
			s := res.Err.Error()
			if len(s) > 160 {
				s = s[:160] + "…"
			}
			return " (" + strings.ReplaceAll(s, "\n", " ") + ")"
		}
	}
	return ""
}

// anyFailed reports whether any check in ids failed or warned in r.
func anyFailed(r *engine.Report, ids []string) bool {
	for _, res := range r.Results {
		for _, id := range ids {
			if res.Check.ID == id && (res.Status == engine.StatusFail || res.Status == engine.StatusWarn) {
				return true
			}
		}
	}
	return false
}
