package render

import (
	"math"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// Rubric gives each check ID its points (a report.Rubric).
type Rubric interface {
	Points(id string) float64
}

// Earns reports whether a result earns its check's points: a pass does; a
// warn does when the check measured its SHOULD requirement and found it
// violated (a hygiene failure); unjudged, fail, error and skip do not.
func Earns(res engine.Result) bool {
	switch res.Status {
	case engine.StatusPass:
		return true
	case engine.StatusWarn:
		f := res.Failure()
		return f != nil && f.Kind == spec.KindHygiene
	}
	return false
}

// Score returns the points rep earned under rubric and the points at
// stake, rounded to 1/1000: checks left out by the selection are not at
// stake, nor, in a client report, checks that do not apply to the
// client's shape (AtStake).
func Score(rubric Rubric, rep *engine.Report) (score, maxScore float64) {
	for _, res := range rep.Results {
		if !AtStake(rep, res) {
			continue
		}
		p := rubric.Points(res.Check.ID)
		maxScore += p
		if Earns(res) {
			score += p
		}
	}
	return roundPoints(score), roundPoints(maxScore)
}

// AtStake reports whether res's points count in rep's score: not when
// --select/--skip left its check out, nor when it is a client check
// skipped because it does not apply to the client's shape (a skipped server
// check is at stake: a check that needs --exec earns nothing against
// HOST:PORT).
func AtStake(rep *engine.Report, res engine.Result) bool {
	if res.NotSelected {
		return false
	}
	return rep.Client == nil || res.Status != engine.StatusSkip
}

// roundPoints rounds to 1/1000 of a point so that category splits such as
// 10/3 add up to clean totals.
func roundPoints(p float64) float64 { return math.Round(p*1000) / 1000 }
