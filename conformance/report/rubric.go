package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

//go:embed default_rubric.yaml
var defaultRubricYAML []byte

// DefaultRubricYAML returns the text of the default rubric, a starting point
// for a course's own rubric file.
func DefaultRubricYAML() []byte { return bytes.Clone(defaultRubricYAML) }

//go:embed default_udp_rubric.yaml
var defaultUDPRubricYAML []byte

// DefaultUDPRubricYAML returns the built-in rubric for the udp catalogue,
// as a file for graders to copy and edit.
func DefaultUDPRubricYAML() []byte { return bytes.Clone(defaultUDPRubricYAML) }

// maxRubricSize bounds a rubric file; real rubrics are a few hundred bytes.
const maxRubricSize = 1 << 20

// Rubric assigns points to checks. It is resolved against a catalogue when
// it is parsed, so every check of that catalogue has a definite number of
// points (possibly 0) and the total is known.
//
// Scoring rule: a check earns its points when it passes, or when it warns
// because a SHOULD requirement was measured and found violated (leaked
// descriptors, zombies); unjudged, fail, error and skip earn nothing. The
// engine reports a violated SHOULD requirement as warn, and as fail under
// --strict, so SHOULD checks cost points exactly when they fail the verdict.
type Rubric struct {
	points map[string]float64 // check ID -> points, for every catalogue check
	order  []string           // catalogue order
	total  float64
}

// rubricFile is the YAML form of a rubric.
type rubricFile struct {
	// Checks gives points to single checks by ID.
	Checks map[string]float64 `yaml:"checks"`
	// Categories gives points to a category, split evenly among its checks
	// that are not listed under Checks.
	Categories map[string]float64 `yaml:"categories"`
}

// ParseRubric reads a YAML rubric and resolves it against catalogue (use
// spec.All()). Unknown fields, unknown check IDs and unknown categories are
// errors that name the offending key; so are negative or non-finite points
// and a category whose every check already has its own points.
func ParseRubric(data []byte, catalogue []spec.Check) (*Rubric, error) {
	if len(data) > maxRubricSize {
		return nil, fmt.Errorf("rubric: file is larger than %d bytes", maxRubricSize)
	}
	var f rubricFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	return resolveRubric(f, catalogue)
}

// LoadRubric reads and parses the rubric file at path (see ParseRubric).
func LoadRubric(path string, catalogue []spec.Check) (*Rubric, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxRubricSize+1))
	if err != nil {
		return nil, fmt.Errorf("rubric: read %s: %w", path, err)
	}
	r, err := ParseRubric(data, catalogue)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// DefaultRubric returns the embedded default rubric resolved against
// spec.All(). It totals exactly 100 points (a test enforces it).
func DefaultRubric() (*Rubric, error) {
	return ParseRubric(defaultRubricYAML, spec.All())
}

// DefaultUDPRubric returns the built-in rubric for the udp catalogue.
func DefaultUDPRubric() (*Rubric, error) {
	return ParseRubric(defaultUDPRubricYAML, spec.UDP())
}

// defaultRubricFor is the built-in rubric of r's catalogue: the client
// rubric for a client report, the UDP one for a UDP server, else the
// default rubric.
func defaultRubricFor(r *engine.Report) (*Rubric, error) {
	switch {
	case r.Client != nil:
		shape, err := spec.ParseShape(r.Client.Shape)
		if err != nil {
			return nil, err
		}
		return DefaultClientRubric(shape)
	case r.Network == "udp":
		return DefaultUDPRubric()
	}
	return DefaultRubric()
}

func resolveRubric(f rubricFile, catalogue []spec.Check) (*Rubric, error) {
	known := make(map[string]spec.Check, len(catalogue))
	perCategory := make(map[string][]string)
	r := &Rubric{points: make(map[string]float64, len(catalogue))}
	for _, c := range catalogue {
		known[c.ID] = c
		r.order = append(r.order, c.ID)
		r.points[c.ID] = 0
		perCategory[c.Category()] = append(perCategory[c.Category()], c.ID)
	}
	for _, id := range sortedKeys(f.Checks) {
		p := f.Checks[id]
		if _, ok := known[id]; !ok {
			return nil, fmt.Errorf("rubric: unknown check ID %q (see `echoconf list` for the catalogue)", id)
		}
		if err := validPoints(p); err != nil {
			return nil, fmt.Errorf("rubric: check %q: %w", id, err)
		}
		r.points[id] = p
	}
	for _, cat := range sortedKeys(f.Categories) {
		p := f.Categories[cat]
		ids, ok := perCategory[cat]
		if !ok {
			return nil, fmt.Errorf("rubric: unknown category %q (categories: %s)", cat, strings.Join(categoriesOf(catalogue), ", "))
		}
		if err := validPoints(p); err != nil {
			return nil, fmt.Errorf("rubric: category %q: %w", cat, err)
		}
		var rest []string
		for _, id := range ids {
			if _, own := f.Checks[id]; !own {
				rest = append(rest, id)
			}
		}
		if len(rest) == 0 {
			return nil, fmt.Errorf("rubric: category %q has points but every one of its checks has its own", cat)
		}
		for _, id := range rest {
			r.points[id] = p / float64(len(rest))
		}
	}
	for _, id := range r.order {
		r.total += r.points[id]
	}
	return r, nil
}

func validPoints(p float64) error {
	if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
		return fmt.Errorf("points must be a finite number >= 0, got %v", p)
	}
	return nil
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func categoriesOf(catalogue []spec.Check) []string {
	var out []string
	seen := make(map[string]bool)
	for _, c := range catalogue {
		if !seen[c.Category()] {
			seen[c.Category()] = true
			out = append(out, c.Category())
		}
	}
	return out
}

// Points returns the points check id is worth; 0 for a check the rubric's
// catalogue does not know.
func (r *Rubric) Points(id string) float64 { return r.points[id] }

// Total returns the sum of the points of every check in the catalogue.
func (r *Rubric) Total() float64 { return r.total }

// IDs returns the catalogue's check IDs in catalogue order.
func (r *Rubric) IDs() []string { return append([]string(nil), r.order...) }

// Score returns the points rep earned and the points at stake, rounded to
// 1/1000: the sum over rep's results of the check's points (max) and of the
// points of the results that earn them (score), by the rule of Rubric.
// Checks that --select/--skip left out are not at stake; checks skipped
// because they do not apply to a server target are, and earn nothing. In a
// client report a skipped check (one that does not apply to the client's
// shape) is not at stake.
func (r *Rubric) Score(rep *engine.Report) (score, maxScore float64) {
	return render.Score(r, rep)
}
