package grade

import (
	"fmt"
	"io"
	"strings"
)

// ProgressPrinter returns a Progress function that writes to w: on a
// terminal a one-line bar redrawn in place ("[=====>    ] 3/9  alice 72/100"),
// otherwise one plain line per finished submission. Write errors are
// ignored: progress is advisory and must never stop grading.
func ProgressPrinter(w io.Writer, terminal bool) func(Event) {
	const width = 30
	running := map[string]bool{}
	return func(e Event) {
		switch e.Kind {
		case EventStart:
			running[e.Submission] = true
		case EventDone:
			delete(running, e.Submission)
		}
		if !terminal {
			if e.Kind == EventDone && e.Result != nil {
				fmt.Fprintf(w, "graded %d/%d: %s%s\n", e.Done, e.Total, summaryLine(e.Result), resumed(e))
			}
			return
		}
		filled := 0
		if e.Total > 0 {
			filled = e.Done * width / e.Total
		}
		bar := strings.Repeat("=", filled)
		if filled < width {
			bar += ">" + strings.Repeat(" ", width-filled-1)
		}
		var names []string
		for n := range running {
			names = append(names, n)
		}
		status := ""
		if len(names) > 0 {
			status = "grading " + strings.Join(sortedStrings(names), ", ")
		}
		if e.Kind == EventDone && e.Result != nil {
			// Keep a line per finished submission above the bar.
			fmt.Fprintf(w, "\r\033[K%s%s\n", summaryLine(e.Result), resumed(e))
		}
		line := fmt.Sprintf("[%s] %d/%d %s", bar, e.Done, e.Total, status)
		if len(line) > 100 {
			line = line[:97] + "..."
		}
		fmt.Fprintf(w, "\r\033[K%s", line)
		if e.Done == e.Total && e.Kind == EventDone {
			fmt.Fprint(w, "\n")
		}
	}
}

// summaryLine is "NAME: SCORE/MAX VERDICT (N.Ns)".
func summaryLine(r *Result) string {
	s := fmt.Sprintf("%s: %s/%s %s (%.1fs)", r.Submission, points(r.Score), points(r.MaxScore), r.Verdict, r.Duration.Seconds())
	if len(r.Flaky) > 0 {
		s += fmt.Sprintf(", %d flaky checks", len(r.Flaky))
	}
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

func resumed(e Event) string {
	if e.Resumed {
		return ", from the previous run"
	}
	return ""
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
