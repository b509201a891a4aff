package report_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"
)

// tapPoint is one parsed test point.
type tapPoint struct {
	OK        bool
	Number    int
	Desc      string // unescaped
	Directive string // "", "SKIP" or "TODO"
	Reason    string
	YAML      map[string]any // the diagnostics block, nil when absent
}

// tapDoc is a parsed TAP 14 document.
type tapDoc struct {
	Planned  int
	Points   []tapPoint
	Comments []string
	BailOut  string
}

// Failed counts the points that fail the run: "not ok" without TODO.
func (d tapDoc) Failed() int {
	n := 0
	for _, p := range d.Points {
		if !p.OK && p.Directive != "TODO" {
			n++
		}
	}
	return n
}

var (
	tapPlanRE  = regexp.MustCompile(`^1\.\.([0-9]+)(?:\s+#\s*(.*))?$`)
	tapPointRE = regexp.MustCompile(`^(not ok|ok)(?:\s+([0-9]+))?(?:\s+-)?(?:\s+(.*))?$`)
	tapDirRE   = regexp.MustCompile(`(?i)^(skip|todo)\S*(?:\s+(.*))?$`)
)

// checkTAP parses doc as TAP version 14 in strict mode (every line must be
// TAP: no stray output) and returns the first violation. It checks the
// version line, exactly one plan, first or last; test points numbered 1..N
// in order and matching the plan; directives; and YAML blocks, which must
// directly follow a test point, be indented two spaces, end with "  ..."
// and parse as a YAML mapping. Subtests are not supported (echoconf writes
// none) and are rejected.
func checkTAP(doc string) (tapDoc, error) {
	var d tapDoc
	if !strings.HasSuffix(doc, "\n") {
		return d, fmt.Errorf("document does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(doc, "\n"), "\n")
	if lines[0] != "TAP version 14" {
		return d, fmt.Errorf("line 1: want %q, got %q", "TAP version 14", lines[0])
	}
	planLine := 0
	lastPointLine := 0
	for i := 1; i < len(lines); i++ {
		ln, line := i+1, lines[i]
		switch {
		case line == "" || strings.HasPrefix(strings.TrimLeft(line, " "), "#"):
			if c := strings.TrimLeft(line, " "); c != "" {
				d.Comments = append(d.Comments, c)
			}
		case strings.HasPrefix(line, "Bail out!"):
			d.BailOut = strings.TrimSpace(strings.TrimPrefix(line, "Bail out!"))
			return d, nil
		case strings.HasPrefix(line, "pragma "):
			if !regexp.MustCompile(`^pragma [+-][A-Za-z0-9_-]+$`).MatchString(line) {
				return d, fmt.Errorf("line %d: malformed pragma %q", ln, line)
			}
		case tapPlanRE.MatchString(line):
			if planLine != 0 {
				return d, fmt.Errorf("line %d: second plan (first on line %d)", ln, planLine)
			}
			if len(d.Points) > 0 && !restIsTrailer(lines[i+1:]) {
				return d, fmt.Errorf("line %d: the plan must come before the first test point or after the last one", ln)
			}
			m := tapPlanRE.FindStringSubmatch(line)
			n, err := strconv.Atoi(m[1])
			if err != nil {
				return d, fmt.Errorf("line %d: plan count: %w", ln, err)
			}
			d.Planned, planLine = n, ln
		case line == "  ---":
			if lastPointLine == 0 || lastPointLine != ln-1 {
				return d, fmt.Errorf("line %d: a YAML block must directly follow a test point", ln)
			}
			var body []string
			end := -1
			for j := i + 1; j < len(lines); j++ {
				if lines[j] == "  ..." {
					end = j
					break
				}
				if lines[j] != "" && !strings.HasPrefix(lines[j], "  ") {
					return d, fmt.Errorf("line %d: YAML block line is not indented two spaces: %q", j+1, lines[j])
				}
				body = append(body, strings.TrimPrefix(lines[j], "  "))
			}
			if end < 0 {
				return d, fmt.Errorf("line %d: YAML block is never closed with \"  ...\"", ln)
			}
			var m map[string]any
			if err := yaml.Unmarshal([]byte(strings.Join(body, "\n")+"\n"), &m); err != nil {
				return d, fmt.Errorf("line %d: YAML block does not parse: %w", ln, err)
			}
			if m == nil {
				return d, fmt.Errorf("line %d: YAML block is not a mapping", ln)
			}
			d.Points[len(d.Points)-1].YAML = m
			i = end
		case tapPointRE.MatchString(line):
			if planLine != 0 && len(d.Points) > 0 && planLine > lastPointLine {
				return d, fmt.Errorf("line %d: test point after a trailing plan", ln)
			}
			p, err := parseTAPPoint(line)
			if err != nil {
				return d, fmt.Errorf("line %d: %w", ln, err)
			}
			if p.Number != len(d.Points)+1 {
				return d, fmt.Errorf("line %d: test point number %d, want %d", ln, p.Number, len(d.Points)+1)
			}
			d.Points = append(d.Points, p)
			lastPointLine = ln
		default:
			return d, fmt.Errorf("line %d: not a TAP line: %q", ln, line)
		}
	}
	if planLine == 0 {
		return d, fmt.Errorf("no plan")
	}
	if d.Planned != len(d.Points) {
		return d, fmt.Errorf("plan says %d tests, found %d", d.Planned, len(d.Points))
	}
	return d, nil
}

// restIsTrailer reports whether lines hold only comments and blank lines.
func restIsTrailer(lines []string) bool {
	for _, l := range lines {
		if l != "" && !strings.HasPrefix(strings.TrimLeft(l, " "), "#") {
			return false
		}
	}
	return true
}

// parseTAPPoint parses "ok N - desc # DIRECTIVE reason", honouring the
// escapes "\#" and "\\" in the description.
func parseTAPPoint(line string) (tapPoint, error) {
	m := tapPointRE.FindStringSubmatch(line)
	p := tapPoint{OK: m[1] == "ok"}
	if m[2] == "" {
		return p, fmt.Errorf("test point without a number (strict)")
	}
	p.Number, _ = strconv.Atoi(m[2])
	rest := m[3]
	var desc strings.Builder
	directive := ""
	for k := 0; k < len(rest); k++ {
		c := rest[k]
		if c == '\\' && k+1 < len(rest) && (rest[k+1] == '#' || rest[k+1] == '\\') {
			desc.WriteByte(rest[k+1])
			k++
			continue
		}
		if c == '#' {
			directive = strings.TrimSpace(rest[k+1:])
			break
		}
		desc.WriteByte(c)
	}
	p.Desc = strings.TrimSpace(desc.String())
	if directive != "" {
		dm := tapDirRE.FindStringSubmatch(directive)
		if dm == nil {
			return p, fmt.Errorf("unknown directive %q (an unescaped # in a description?)", directive)
		}
		p.Directive, p.Reason = strings.ToUpper(dm[1]), dm[2]
	}
	return p, nil
}

var _ = Describe("the strict TAP 14 checker used by the TAP specs", func() {
	DescribeTable("accepts valid TAP",
		func(doc string, points, failed int) {
			d, err := checkTAP(doc)
			Expect(err).NotTo(HaveOccurred())
			Expect(d.Points).To(HaveLen(points))
			Expect(d.Failed()).To(Equal(failed))
		},
		Entry("a plan first", "TAP version 14\n1..2\nok 1 - a\nnot ok 2 - b\n", 2, 1),
		Entry("a plan last", "TAP version 14\nok 1 - a\nok 2\n1..2\n# done\n", 2, 0),
		Entry("an empty run", "TAP version 14\n1..0 # nothing to do\n", 0, 0),
		Entry("directives", "TAP version 14\n1..3\nok 1 - a # SKIP no process\nnot ok 2 - b # TODO known\nnot ok 3 - c # todo\n", 3, 0),
		Entry("escaped hashes", "TAP version 14\n1..1\nok 1 - a \\# b \\\\ c\n", 1, 0),
		Entry("a YAML block", "TAP version 14\n1..1\nnot ok 1 - a\n  ---\n  message: \"x: y\"\n  data: |\n    line 1\n\n    line 3\n  ...\n", 1, 1),
		Entry("comments and blank lines", "TAP version 14\n# start\n\n1..1\n# between\nok 1 - a\n", 1, 0),
		Entry("a bail out", "TAP version 14\n1..3\nok 1 - a\nBail out! server died\n", 1, 0),
	)

	DescribeTable("rejects invalid TAP",
		func(doc, problem string) {
			_, err := checkTAP(doc)
			Expect(err).To(MatchError(ContainSubstring(problem)))
		},
		Entry("no version", "1..1\nok 1\n", "line 1"),
		Entry("TAP 13", "TAP version 13\n1..1\nok 1\n", "line 1"),
		Entry("no plan", "TAP version 14\nok 1\n", "no plan"),
		Entry("two plans", "TAP version 14\n1..1\nok 1\n1..1\n", "second plan"),
		Entry("a plan in the middle", "TAP version 14\nok 1\n1..2\nok 2\n", "plan must come"),
		Entry("too few tests", "TAP version 14\n1..3\nok 1\nok 2\n", "plan says 3"),
		Entry("a missing number", "TAP version 14\n1..1\nok - a\n", "without a number"),
		Entry("numbers out of order", "TAP version 14\n1..2\nok 2\nok 1\n", "number 2, want 1"),
		Entry("an unknown directive", "TAP version 14\n1..1\nok 1 - a # b\n", "unknown directive"),
		Entry("an unclosed YAML block", "TAP version 14\n1..1\nnot ok 1\n  ---\n  a: 1\n", "never closed"),
		Entry("a YAML block that does not parse", "TAP version 14\n1..1\nnot ok 1\n  ---\n  a: [1\n  ...\n", "does not parse"),
		Entry("a YAML scalar", "TAP version 14\n1..1\nnot ok 1\n  ---\n  just text\n  ...\n", "does not parse"),
		Entry("a badly indented YAML line", "TAP version 14\n1..1\nnot ok 1\n  ---\nmessage: x\n  ...\n", "not indented"),
		Entry("a YAML block after a comment", "TAP version 14\n1..1\nnot ok 1\n# x\n  ---\n  a: 1\n  ...\n", "directly follow"),
		Entry("stray output", "TAP version 14\n1..1\nhello\nok 1\n", "not a TAP line"),
		Entry("no final newline", "TAP version 14\n1..1\nok 1", "newline"),
	)
})
