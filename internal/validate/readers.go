package validate

import (
	"encoding/json"
	"fmt"
	"os"
)

// TAPPoint is one test point as tap-parser read it.
type TAPPoint struct {
	OK   bool           `json:"ok"`
	ID   int            `json:"id"`
	Name string         `json:"name"`
	Todo any            `json:"todo"` // false, true or the reason
	Skip any            `json:"skip"` // false, true or the reason
	Diag map[string]any `json:"diag"`
}

// TAPResult is tap-parser's final result of a TAP stream.
type TAPResult struct {
	OK      bool `json:"ok"`
	Count   int  `json:"count"`
	Pass    int  `json:"pass"`
	Fail    int  `json:"fail"`
	Todo    int  `json:"todo"`
	Skip    int  `json:"skip"`
	Bailout any  `json:"bailout"`
	Plan    struct {
		Start int `json:"start"`
		End   int `json:"end"`
	} `json:"plan"`
	Failures []struct {
		ID       int    `json:"id"`
		Name     string `json:"name"`
		TAPError any    `json:"tapError"`
	} `json:"failures"`
	Points []TAPPoint `json:"points"`
	// Extra holds the lines tap-parser did not recognise as TAP.
	Extra []string `json:"extra"`
	// Comments holds the comment lines, "# " included.
	Comments []string `json:"comments"`
}

// Point returns the test point named name, or nil.
func (r *TAPResult) Point(name string) *TAPPoint {
	for i := range r.Points {
		if r.Points[i].Name == name {
			return &r.Points[i]
		}
	}
	return nil
}

// TAPParser parses doc with node-tap's tap-parser in strict mode.
func TAPParser(doc []byte) (*TAPResult, error) {
	out, err := node("tap-parse.js", doc)
	if err != nil {
		return nil, err
	}
	var r TAPResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("tap-parser output: %w: %s", err, out)
	}
	return &r, nil
}

// JUnitTotals is what test-results-parser reads from a JUnit file. Total
// excludes the skipped tests, as test-results-parser counts.
type JUnitTotals struct {
	Total   int    `json:"total"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Errors  int    `json:"errors"`
	Skipped int    `json:"skipped"`
	Status  string `json:"status"`
	Cases   []struct {
		Name   string `json:"name"`
		Status string `json:"status"` // PASS, FAIL or SKIP
	} `json:"cases"`
}

// CaseStatus returns the status test-results-parser gives the named test.
func (t *JUnitTotals) CaseStatus(name string) string {
	for _, c := range t.Cases {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

// TestResultsParser reads the JUnit XML file at path with
// test-results-parser.
func TestResultsParser(path string) (*JUnitTotals, error) {
	out, err := node("junit-totals.js", nil, path)
	if err != nil {
		return nil, err
	}
	var t JUnitTotals
	if err := json.Unmarshal(out, &t); err != nil {
		return nil, fmt.Errorf("test-results-parser output: %w: %s", err, out)
	}
	return &t, nil
}

// Chromium returns the path of Debian's headless-capable chromium.
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := lookPath(name, ""); err == nil {
			return p, nil
		}
	}
	return "", &MissingError{Tool: "chromium", Install: "apt-get install chromium"}
}

// RunChromium runs headless chromium with args (after the flags that keep it
// offline and quiet, and a fresh profile) in its own process group, and
// returns its standard output.
func RunChromium(args ...string) ([]byte, error) {
	bin, err := Chromium()
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "echoconf-chromium-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir=" + profile}
	stdout, stderr, err := run("", nil, bin, append(base, args...)...)
	if err != nil {
		return nil, fmt.Errorf("chromium: %w\n%s", err, stderr)
	}
	return stdout, nil
}
