package adversary_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// clientsFile is the manifest of the C client gallery, relative to the
// repository's testdata directory.
const clientsFile = "clients.json"

// Shapes of client: how echoconf hands it the message.
const (
	shapeArgument    = "argument"    // the message is an argument: {message}
	shapeInteractive = "interactive" // lines on stdin, one echo per line
	shapeStream      = "stream"      // stdin to the server, the echo to stdout
)

// clientManifest is testdata/clients.json.
type clientManifest struct {
	Dir     string          `json:"-"`
	Clients []clientProgram `json:"clients"`
}

// clientProgram is one C client of the gallery.
type clientProgram struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`  // "correct" or "faulty"
	Shape   string   `json:"shape"` // shapeArgument, shapeInteractive or shapeStream
	Sources []string `json:"sources"`
	CFlags  []string `json:"cflags,omitempty"`
	Run     string   `json:"run"` // {bin}, {host}, {port} and, for the argument shape, {message}
	// TTY: stdin is a terminal (a pty) where the lines are typed, for a
	// client that is interactive only on a terminal (interactive shape).
	TTY    bool         `json:"tty,omitempty"`
	Fault  string       `json:"fault,omitempty"`
	Expect clientExpect `json:"expect"`
}

// clientExpect is a client's expected result over the client checks:
// conformant (every check passes), or the MUST checks that fail and the
// SHOULD checks that warn. Every other check that applies to the shape
// must pass.
type clientExpect struct {
	Conformant bool     `json:"conformant,omitempty"`
	Fail       []string `json:"fail,omitempty"`
	Warn       []string `json:"warn,omitempty"`
}

func testdataDir() string { return filepath.Join("..", "..", "testdata") }

// loadClients loads and validates the manifest at file against checks.
func loadClients(file string, checks []clientCheck) (*clientManifest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var m clientManifest
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	m.Dir = filepath.Dir(file)
	if err := m.validate(checks); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &m, nil
}

var (
	clientNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	placeholderRE  = regexp.MustCompile(`\{[a-z]*\}`)
	knownShapes    = []string{shapeArgument, shapeInteractive, shapeStream}
	knownHolders   = []string{"{bin}", "{host}", "{port}", "{message}"}
	requiredHolder = []string{"{bin}", "{host}", "{port}"}
)

func (m *clientManifest) validate(checks []clientCheck) error {
	byID := make(map[string]clientCheck, len(checks))
	for _, c := range checks {
		byID[c.ID] = c
	}
	seen := make(map[string]bool)
	var errs []error
	for _, p := range m.Clients {
		where := fmt.Sprintf("client %q", p.Name)
		bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(where+": "+format, a...)) }
		if !clientNameRE.MatchString(p.Name) {
			bad("name must match %s", clientNameRE)
		}
		if seen[p.Name] {
			bad("duplicate name")
		}
		seen[p.Name] = true
		if !slices.Contains(knownShapes, p.Shape) {
			bad("shape %q is not one of %v", p.Shape, knownShapes)
		}
		if len(p.Sources) == 0 {
			bad("no sources")
		}
		for _, s := range p.Sources {
			if filepath.IsAbs(s) || strings.HasPrefix(path.Clean(s), "..") {
				bad("source %q must be inside testdata", s)
			} else if _, err := os.Stat(filepath.Join(m.Dir, s)); err != nil {
				bad("%v", err)
			}
		}
		for _, h := range placeholderRE.FindAllString(p.Run, -1) {
			if !slices.Contains(knownHolders, h) {
				bad("run %q: unknown placeholder %s", p.Run, h)
			}
		}
		for _, h := range requiredHolder {
			if !strings.Contains(p.Run, h) {
				bad("run %q has no %s", p.Run, h)
			}
		}
		if p.TTY && p.Shape != shapeInteractive {
			bad("tty is for the interactive shape only")
		}
		if hasMsg := strings.Contains(p.Run, "{message}"); hasMsg != (p.Shape == shapeArgument) {
			bad("run %q: {message} is for the argument shape and only for it", p.Run)
		}
		e := p.Expect
		switch {
		case p.Kind == "correct" && (!e.Conformant || len(e.Fail)+len(e.Warn) > 0):
			bad(`a correct client must expect {"conformant": true} and nothing else`)
		case p.Kind == "faulty" && (e.Conformant || len(e.Fail)+len(e.Warn) == 0):
			bad("a faulty client must name the checks that catch it")
		case p.Kind == "faulty" && p.Fault == "":
			bad("a faulty client must describe its fault")
		case p.Kind != "correct" && p.Kind != "faulty":
			bad("kind %q is not correct or faulty", p.Kind)
		}
		named := make(map[string]bool)
		for _, l := range []struct {
			list  []string
			level string
		}{{e.Fail, "MUST"}, {e.Warn, "SHOULD"}} {
			for _, id := range l.list {
				c, ok := byID[id]
				switch {
				case !ok:
					bad("unknown check %q", id)
				case c.Level != l.level:
					bad("%s is a %s check: it cannot be expected as a %s failure", id, c.Level, l.level)
				case !c.appliesTo(p.Shape):
					bad("%s does not apply to the %s shape", id, p.Shape)
				case named[id]:
					bad("%s is named twice", id)
				}
				named[id] = true
			}
		}
	}
	return errors.Join(errs...)
}
