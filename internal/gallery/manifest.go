// Package gallery is the Go side of testdata/: it loads the manifest of the
// C echo programs in testdata/c, builds them with gcc, and turns a server
// into a engine.Target, so that tests, the accuracy report and the
// demo can run the suite against real servers written the way students and
// third parties write them.
//
// # The manifest
//
// testdata/servers.json holds two lists, "servers" and "clients", of
// programs. Every program has:
//
//	name     unique, lower-case, also the binary's file name
//	kind     "correct", "faulty" or "misbehaving" for servers; "client"
//	sources  C files, relative to testdata/
//	cflags   extra gcc flags after the fixed -Wall -Wextra -O2 (e.g. "-pthread")
//	ldflags  extra flags after the sources (e.g. "-lm")
//	run      the command line, with {bin} for the built binary and {port}
//	         for the port the runner picks, e.g. "{bin} {port}"
//	network  "udp" for a UDP server, checked with the udp catalogue; TCP
//	         when absent
//	fault    for faulty and misbehaving servers, the fault in one sentence
//	expect   the expected result of a full run of the catalogue (servers only)
//
// expect is either {"conformant": true}: every check passes, none fails
// (a correct server may still name, in warn, the SHOULD checks that warn
// about it, such as large/throughput for a slow one); or lists of check
// IDs:
//
//	fail      MUST checks that fail deterministically on this server
//	warn      SHOULD checks that warn (fail only under Strict)
//	caught_by_any  checks of which at least one must fail, for a fault that
//	          every one of them can reveal but none reveals every time (data
//	          lost only when a socket buffer happens to fill); their own
//	          statuses are not compared
//	may_fail  path.Match patterns ("large/*", "*/*" for all) of checks whose failure or
//	          warning is a legitimate consequence of the fault but depends on
//	          scheduling (which check happens to be running when a server
//	          dies, for example); their status is not compared
//
// Every check not named in fail, warn or may_fail is expected to pass. The
// verdict follows: "pass" when fail is empty (warnings do not fail a run
// unless it is strict), "fail" otherwise (fail or caught_by_any is set).
package gallery

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// ManifestFile is the manifest's file name inside the testdata directory.
const ManifestFile = "servers.json"

// Kind says what a program is for.
type Kind string

// The kinds of program in the gallery.
const (
	KindCorrect     Kind = "correct"     // a server that must pass every check
	KindFaulty      Kind = "faulty"      // a server with one realistic fault the suite must catch
	KindMisbehaving Kind = "misbehaving" // a hostile fixture for the runner's own robustness
	KindClient      Kind = "client"      // an echo client
)

// Program is one C program of the gallery.
type Program struct {
	Name    string   `json:"name"`
	Kind    Kind     `json:"kind"`
	Sources []string `json:"sources"`
	CFlags  []string `json:"cflags,omitempty"`
	LDFlags []string `json:"ldflags,omitempty"`
	Run     string   `json:"run"`
	// Network is "udp" for a UDP server; empty means TCP.
	Network string `json:"network,omitempty"`
	// Shape and TTY describe a client of the client gallery
	// (ClientManifestFile); both are empty for a server.
	Shape  string `json:"shape,omitempty"`
	TTY    bool   `json:"tty,omitempty"`
	Fault  string `json:"fault,omitempty"`
	Expect Expect `json:"expect"`
	// Root is the testdata directory that Sources are relative to; Load
	// sets it.
	Root string `json:"-"`
}

// Expect is a server's expected result over the whole catalogue.
type Expect struct {
	Conformant bool     `json:"conformant,omitempty"`
	Fail       []string `json:"fail,omitempty"`
	Warn       []string `json:"warn,omitempty"`
	// Unjudged lists the SHOULD checks that the server's faults keep from
	// being judged at all (engine.StatusUnjudged).
	Unjudged []string `json:"unjudged,omitempty"`
	CaughtBy []string `json:"caught_by_any,omitempty"`
	MayFail  []string `json:"may_fail,omitempty"`
}

// Verdict returns the expected verdict: "pass" when no MUST check is
// expected to fail, "fail" otherwise. It matches engine.Verdict's
// values for a run that is not strict.
func (e Expect) Verdict() string {
	if len(e.Fail) > 0 || len(e.CaughtBy) > 0 {
		return "fail"
	}
	return "pass"
}

// String renders the expectation for people: "conformant", or the failing
// IDs followed by the warning ones marked "(warn)".
func (e Expect) String() string {
	if e.Conformant {
		return "conformant"
	}
	parts := append([]string(nil), e.Fail...)
	for _, w := range e.Warn {
		parts = append(parts, w+" (warn)")
	}
	for _, w := range e.Unjudged {
		parts = append(parts, w+" (unjudged)")
	}
	if len(e.CaughtBy) > 0 {
		parts = append(parts, "one of ("+strings.Join(e.CaughtBy, " | ")+")")
	}
	return strings.Join(parts, ", ")
}

// Manifest is the parsed testdata/servers.json.
type Manifest struct {
	// Dir is the testdata directory; Sources are relative to it.
	Dir     string    `json:"-"`
	Servers []Program `json:"servers"`
	Clients []Program `json:"clients"`
}

// Server returns the server named name.
func (m *Manifest) Server(name string) (Program, bool) {
	for _, p := range m.Servers {
		if p.Name == name {
			return p, true
		}
	}
	return Program{}, false
}

// Client returns the client named name.
func (m *Manifest) Client(name string) (Program, bool) {
	for _, p := range m.Clients {
		if p.Name == name {
			return p, true
		}
	}
	return Program{}, false
}

// ServersOf returns the servers of one kind, in manifest order.
func (m *Manifest) ServersOf(k Kind) []Program {
	var out []Program
	for _, p := range m.Servers {
		if p.Kind == k {
			out = append(out, p)
		}
	}
	return out
}

// Load finds the testdata directory (see Dir) and loads its manifest.
func Load() (*Manifest, error) {
	return loadIn(ManifestFile, LoadFile)
}

// loadIn finds the testdata directory and loads its manifest name with load.
func loadIn(name string, load func(string) (*Manifest, error)) (*Manifest, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	return load(filepath.Join(dir, name))
}

// LoadFile loads and validates the manifest at file. Sources are resolved
// against the file's directory.
func LoadFile(file string) (*Manifest, error) {
	return loadFile(file, (*Manifest).validate)
}

// loadFile decodes the manifest at file and checks it with validate.
func loadFile(file string, validate func(*Manifest) error) (*Manifest, error) {
	m, err := decodeManifest(file)
	if err != nil {
		return nil, err
	}
	if err := validate(m); err != nil {
		return nil, fmt.Errorf("gallery: %s: %w", file, err)
	}
	return m, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// identityErrors are what is wrong with p's name and sources, server or
// client: the name must match nameRE and not be in seen (which records
// it), and each source must be a file inside dir.
func identityErrors(p Program, seen map[string]bool, dir string) []error {
	var errs []error
	if !nameRE.MatchString(p.Name) {
		errs = append(errs, fmt.Errorf("name must match %s", nameRE))
	}
	if seen[p.Name] {
		errs = append(errs, errors.New("duplicate name"))
	}
	seen[p.Name] = true
	if len(p.Sources) == 0 {
		errs = append(errs, errors.New("no sources"))
	}
	for _, s := range p.Sources {
		if filepath.IsAbs(s) || strings.HasPrefix(path.Clean(s), "..") {
			errs = append(errs, fmt.Errorf("source %q must be inside testdata", s))
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, s)); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// validate checks what can be checked without the catalogue: names, kinds,
// sources, the run template and the consistency of expectations. Check IDs
// are validated against the catalogue by ValidateIDs.
func (m *Manifest) validate() error {
	seen := make(map[string]bool)
	var errs []error
	all := append(append([]Program(nil), m.Servers...), m.Clients...)
	for i, p := range all {
		isServer := i < len(m.Servers)
		where := fmt.Sprintf("program %q", p.Name)
		for _, err := range identityErrors(p, seen, m.Dir) {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		switch {
		case isServer && p.Kind != KindCorrect && p.Kind != KindFaulty && p.Kind != KindMisbehaving:
			errs = append(errs, fmt.Errorf("%s: kind %q is not correct, faulty or misbehaving", where, p.Kind))
		case !isServer && p.Kind != KindClient:
			errs = append(errs, fmt.Errorf("%s: a client's kind must be %q", where, KindClient))
		}
		if !strings.Contains(p.Run, "{bin}") {
			errs = append(errs, fmt.Errorf("%s: run %q has no {bin}", where, p.Run))
		}
		if p.Shape != "" || p.TTY {
			errs = append(errs, fmt.Errorf("%s: shape and tty belong in %s", where, ClientManifestFile))
		}
		if isServer && !strings.Contains(p.Run, "{port}") {
			errs = append(errs, fmt.Errorf("%s: run %q has no {port}", where, p.Run))
		}
		if !isServer {
			continue
		}
		e := p.Expect
		named := len(e.Fail) + len(e.Warn) + len(e.Unjudged) + len(e.CaughtBy)
		listed := named + len(e.MayFail)
		switch {
		case p.Kind == KindCorrect && (!e.Conformant || listed > len(e.Warn)):
			errs = append(errs, fmt.Errorf("%s: a correct server must expect {\"conformant\": true} and nothing else but warn", where))
		case p.Kind != KindCorrect && e.Conformant:
			errs = append(errs, fmt.Errorf("%s: only a correct server can be conformant", where))
		case p.Kind != KindCorrect && named == 0:
			errs = append(errs, fmt.Errorf("%s: a %s server must name the checks that catch it", where, p.Kind))
		case p.Kind != KindCorrect && p.Fault == "":
			errs = append(errs, fmt.Errorf("%s: a %s server must describe its fault", where, p.Kind))
		}
		for _, pat := range e.MayFail {
			if _, err := path.Match(pat, ""); err != nil {
				errs = append(errs, fmt.Errorf("%s: may_fail pattern %q: %w", where, pat, err))
			}
		}
	}
	return errors.Join(errs...)
}

// decodeManifest reads the manifest at file strictly (no unknown field)
// and resolves its programs' sources against the file's directory.
func decodeManifest(file string) (*Manifest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("gallery: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("gallery: parse %s: %w", file, err)
	}
	m.Dir = filepath.Dir(file)
	for i := range m.Servers {
		m.Servers[i].Root = m.Dir
	}
	for i := range m.Clients {
		m.Clients[i].Root = m.Dir
	}
	return &m, nil
}

// ValidateIDs reports every check ID that the manifest names in fail or
// warn but that is not in ids (the catalogue), and every ID named in both
// lists, so that a typo cannot make an expectation vacuous.
func (m *Manifest) ValidateIDs(ids []string) error {
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		known[id] = true
	}
	var errs []error
	for _, p := range m.Servers {
		both := make(map[string]bool)
		for _, id := range p.Expect.Fail {
			both[id] = true
			if !known[id] {
				errs = append(errs, fmt.Errorf("server %q: fail: unknown check %q", p.Name, id))
			}
		}
		for _, id := range p.Expect.CaughtBy {
			if !known[id] {
				errs = append(errs, fmt.Errorf("server %q: caught_by_any: unknown check %q", p.Name, id))
			}
		}
		for _, id := range p.Expect.Warn {
			if !known[id] {
				errs = append(errs, fmt.Errorf("server %q: warn: unknown check %q", p.Name, id))
			}
			if both[id] {
				errs = append(errs, fmt.Errorf("server %q: %q is in both fail and warn", p.Name, id))
			}
			both[id] = true
		}
		for _, id := range p.Expect.Unjudged {
			if !known[id] {
				errs = append(errs, fmt.Errorf("server %q: unjudged: unknown check %q", p.Name, id))
			}
			if both[id] {
				errs = append(errs, fmt.Errorf("server %q: %q is in unjudged and in fail or warn", p.Name, id))
			}
		}
	}
	return errors.Join(errs...)
}

// Dir returns the testdata directory: $ECHOCONF_TESTDATA when set;
// otherwise the nearest testdata/ holding servers.json in the working
// directory or one of its parents; otherwise the one beside this source
// file's module (found through the build's file paths, so it works for
// tests and "go run" inside the repository).
func Dir() (string, error) {
	if d := os.Getenv("ECHOCONF_TESTDATA"); d != "" {
		return d, nil
	}
	if wd, err := os.Getwd(); err == nil {
		for d, i := wd, 0; i < 64; d, i = filepath.Dir(d), i+1 {
			if fileExists(filepath.Join(d, "testdata", ManifestFile)) {
				return filepath.Join(d, "testdata"), nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		d := filepath.Join(filepath.Dir(file), "..", "..", "testdata")
		if fileExists(filepath.Join(d, ManifestFile)) {
			return filepath.Clean(d), nil
		}
	}
	return "", errors.New("gallery: cannot find testdata/" + ManifestFile + " (set ECHOCONF_TESTDATA)")
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
