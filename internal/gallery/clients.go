package gallery

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// ClientManifestFile is the file name, inside the testdata directory, of
// the manifest of the client gallery.
//
// testdata/clients.json lists C echo clients, correct and faulty, each a
// Program with two more fields:
//
//	shape   "argument", "interactive" or "stream" (spec.Shape)
//	tty     true when its stdin must be a terminal (not the stream shape)
//
// Its run template has {bin}, {host} and {port}, and {message} exactly
// for the argument shape. expect is {"conformant": true} for a correct
// client, or the client checks that fail (MUST) and warn (SHOULD) for a
// faulty one; every other client check that applies to its shape must
// pass.
const ClientManifestFile = "clients.json"

// LoadClients finds the testdata directory (see Dir) and loads its client
// manifest, whose programs are returned in Manifest.Clients.
func LoadClients() (*Manifest, error) {
	return loadIn(ClientManifestFile, LoadClientsFile)
}

// LoadClientsFile loads and validates the client manifest at file, against
// the client catalogue.
func LoadClientsFile(file string) (*Manifest, error) {
	return loadFile(file, (*Manifest).ValidateClients)
}

var placeholderRE = regexp.MustCompile(`\{[a-z]*\}`)

// ValidateClients checks every client of a client manifest: its name,
// sources, shape, run template and expectation, against spec.Clients().
func (m *Manifest) ValidateClients() error {
	if len(m.Servers) > 0 {
		return errors.New("a client manifest lists no servers")
	}
	checks := make(map[string]spec.Check)
	for _, c := range spec.Clients() {
		checks[c.ID] = c
	}
	seen := make(map[string]bool)
	var errs []error
	for _, p := range m.Clients {
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("client %q: %s", p.Name, fmt.Sprintf(format, a...)))
		}
		for _, err := range identityErrors(p, seen, m.Dir) {
			bad("%v", err)
		}
		shape, err := spec.ParseShape(p.Shape)
		if err != nil {
			bad("%v", err)
		}
		for _, h := range placeholderRE.FindAllString(p.Run, -1) {
			if !slices.Contains([]string{"{bin}", "{host}", "{port}", "{message}"}, h) {
				bad("run %q: unknown placeholder %s", p.Run, h)
			}
		}
		for _, h := range []string{"{bin}", "{host}"} {
			if !strings.Contains(p.Run, h) {
				bad("run %q has no %s", p.Run, h)
			}
		}
		if err == nil {
			// The engine's own rules for {port}, {message} and tty.
			if err := (engine.ClientTarget{Command: p.Run, Shape: shape, TTY: p.TTY}).ValidateCommand(); err != nil {
				bad("%v", err)
			}
		}
		if p.Network != "" {
			bad("a client has no network field")
		}
		errs = append(errs, validateClientExpect(p, shape, checks)...)
	}
	return errors.Join(errs...)
}

// validateClientExpect checks p's expectation: conformant for a correct
// client; for a faulty one, a fault and checks that exist, have the level
// of their list and apply to its shape.
func validateClientExpect(p Program, shape spec.Shape, checks map[string]spec.Check) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("client %q: %s", p.Name, fmt.Sprintf(format, a...)))
	}
	e := p.Expect
	if len(e.Unjudged)+len(e.CaughtBy)+len(e.MayFail) > 0 {
		bad("a client expects only conformant, fail and warn")
	}
	switch {
	case p.Kind == KindCorrect && (!e.Conformant || len(e.Fail)+len(e.Warn) > 0):
		bad(`a correct client must expect {"conformant": true} and nothing else`)
	case p.Kind == KindFaulty && (e.Conformant || len(e.Fail)+len(e.Warn) == 0):
		bad("a faulty client must name the checks that catch it")
	case p.Kind == KindFaulty && p.Fault == "":
		bad("a faulty client must describe its fault")
	case p.Kind != KindCorrect && p.Kind != KindFaulty:
		bad("kind %q is not correct or faulty", p.Kind)
	}
	named := make(map[string]bool)
	for _, l := range []struct {
		ids   []string
		level spec.Level
	}{{e.Fail, spec.Must}, {e.Warn, spec.Should}} {
		for _, id := range l.ids {
			c, ok := checks[id]
			switch {
			case !ok:
				bad("unknown client check %q", id)
			case c.Level != l.level:
				bad("%s is a %s check: it cannot be expected as a %s failure", id, c.Level, l.level)
			case !c.AppliesTo(shape):
				bad("%s does not apply to the %s shape", id, p.Shape)
			case named[id]:
				bad("%s is named twice", id)
			}
			named[id] = true
		}
	}
	return errs
}
