package grade

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
)

// FileChecks is the class's per-check figures, beside summary.csv.
const FileChecks = "checks.csv"

// ChecksHeader is the header row of checks.csv.
var ChecksHeader = []string{"check", "category", "level", "passed", "failed", "warned", "unjudged", "skipped",
	"errors", "not_run", "pass_rate", "failed_submissions"}

// CheckTally is how the class did on one check. Every submission counts in
// exactly one of the counts: NotRun holds those where the check did not
// run (the submission did not build, could not be graded, or the check was
// not selected).
type CheckTally struct {
	ID, Category, Level string
	Passed, Failed      int
	Warned, Unjudged    int
	Skipped, Errors     int
	NotRun              int
	// FailedBy lists the submissions where the check failed or errored;
	// WarnedBy those where it warned or could not be judged.
	FailedBy, WarnedBy []string
}

// Total is the number of submissions the tally covers.
func (t CheckTally) Total() int {
	return t.Passed + t.Failed + t.Warned + t.Unjudged + t.Skipped + t.Errors + t.NotRun
}

// PassRate is the share of all submissions that passed the check, 0 to 1.
func (t CheckTally) PassRate() float64 {
	if t.Total() == 0 {
		return 0
	}
	return float64(t.Passed) / float64(t.Total())
}

// TallyChecks returns the class's figures for every check that appears in
// some submission's report, in catalogue order. It reads only each
// Result's Submission and Report, so that results merged from several
// runs tally the same as one run.
func TallyChecks(results []Result) []CheckTally {
	var tallies []CheckTally
	index := map[string]int{}
	for _, r := range results {
		if r.Report == nil {
			continue
		}
		for _, res := range r.Report.Results {
			if _, ok := index[res.Check.ID]; !ok {
				index[res.Check.ID] = len(tallies)
				tallies = append(tallies, CheckTally{ID: res.Check.ID, Category: res.Check.Category(), Level: res.Check.Level.String()})
			}
		}
	}
	for _, r := range results {
		seen := make([]bool, len(tallies))
		if r.Report != nil {
			for _, res := range r.Report.Results {
				i := index[res.Check.ID]
				if seen[i] {
					continue
				}
				seen[i] = true
				t := &tallies[i]
				switch {
				case res.NotSelected:
					t.NotRun++
				case res.Status == engine.StatusPass:
					t.Passed++
				case res.Status == engine.StatusFail:
					t.Failed++
					t.FailedBy = append(t.FailedBy, r.Submission)
				case res.Status == engine.StatusError:
					t.Errors++
					t.FailedBy = append(t.FailedBy, r.Submission)
				case res.Status == engine.StatusWarn:
					t.Warned++
					t.WarnedBy = append(t.WarnedBy, r.Submission)
				case res.Status == engine.StatusUnjudged:
					t.Unjudged++
					t.WarnedBy = append(t.WarnedBy, r.Submission)
				default:
					t.Skipped++
				}
			}
		}
		for i := range tallies {
			if !seen[i] {
				tallies[i].NotRun++
			}
		}
	}
	return tallies
}

// WriteChecksCSV writes checks.csv: one row per check with the columns of
// ChecksHeader. pass_rate is passed over all submissions, with three
// decimals; failed_submissions (failed or errored) is ";"-separated.
func WriteChecksCSV(w io.Writer, results []Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ChecksHeader); err != nil {
		return fmt.Errorf("checks.csv: %w", err)
	}
	for _, t := range TallyChecks(results) {
		row := []string{t.ID, t.Category, t.Level}
		for _, n := range []int{t.Passed, t.Failed, t.Warned, t.Unjudged, t.Skipped, t.Errors, t.NotRun} {
			row = append(row, strconv.Itoa(n))
		}
		row = append(row, strconv.FormatFloat(t.PassRate(), 'f', 3, 64), strings.Join(t.FailedBy, ";"))
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("checks.csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("checks.csv: %w", err)
	}
	return nil
}

// ScoreBin is one bar of the score histogram: the submissions whose score
// is in [Low, High), or [Low, High] for the last bin.
type ScoreBin struct {
	Low, High   float64
	Submissions []string
}

// scoreBins is how many bars the histogram has.
const scoreBins = 10

// ScoreHistogram sorts the submissions into ten equal score ranges from 0
// to the highest MaxScore of the results.
func ScoreHistogram(results []Result) []ScoreBin {
	top := 0.0
	for _, r := range results {
		top = math.Max(top, r.MaxScore)
	}
	if top <= 0 {
		top = 1
	}
	bins := make([]ScoreBin, scoreBins)
	for i := range bins {
		bins[i].Low = top * float64(i) / scoreBins
		bins[i].High = top * float64(i+1) / scoreBins
	}
	for _, r := range results {
		i := int(math.Floor(r.Score / top * scoreBins))
		i = max(0, min(i, scoreBins-1))
		bins[i].Submissions = append(bins[i].Submissions, r.Submission)
	}
	return bins
}
