package gallery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// BaseCFlags are the flags every gallery program is built with. The gallery
// holds itself to zero warnings under them.
var BaseCFlags = []string{"-Wall", "-Wextra", "-O2"}

// buildWait bounds how long a cancelled gcc may take to go away.
const buildWait = 5 * time.Second

// Compiler is the C compiler: $CC when set, otherwise "gcc".
func Compiler() string {
	if cc := os.Getenv("CC"); cc != "" {
		return cc
	}
	return "gcc"
}

// BuildArgs returns the compiler's arguments that build p into out.
func (m *Manifest) BuildArgs(p Program, out string) []string {
	args := append([]string(nil), BaseCFlags...)
	args = append(args, p.CFlags...)
	args = append(args, "-o", out)
	for _, s := range p.Sources {
		args = append(args, filepath.Join(m.Dir, filepath.FromSlash(s)))
	}
	return append(args, p.LDFlags...)
}

// Build compiles p, as loaded from a manifest (its sources are relative to
// p.Root), into dir/NAME and returns the binary's path; see Manifest.Build.
func Build(ctx context.Context, p Program, dir string) (string, error) {
	return (&Manifest{Dir: p.Root}).Build(ctx, p, dir)
}

// Build compiles p into dir/NAME and returns the binary's path (a program
// whose one source is a script, see ScriptExtensions, is copied there
// instead, once its interpreter is found). It fails
// when the compiler fails and also when it succeeds with any diagnostic on
// its output: a warning is a build failure in the gallery. The compiler
// runs in its own process group, which is killed when ctx ends.
func (m *Manifest) Build(ctx context.Context, p Program, dir string) (string, error) {
	out := filepath.Join(dir, p.Name)
	if script, ok := scriptSource(p); ok {
		return installScript(filepath.Join(m.Dir, filepath.FromSlash(script)), out)
	}
	cmd := exec.CommandContext(ctx, Compiler(), m.BuildArgs(p, out)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = buildWait
	var diag bytes.Buffer
	cmd.Stdout = &diag
	cmd.Stderr = &diag
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("gallery: build %s: %w\n%s", p.Name, err, strings.TrimSpace(diag.String()))
	}
	if s := strings.TrimSpace(diag.String()); s != "" {
		return "", fmt.Errorf("gallery: build %s: compiler diagnostics (the gallery allows no warnings):\n%s", p.Name, s)
	}
	return out, nil
}

// Command returns p's run command line for the binary bin: {bin} is
// replaced by bin, quoted for the runner's sh-like parser, and {port} is
// left for the runner to fill in.
func (p Program) Command(bin string) string {
	return strings.ReplaceAll(p.Run, "{bin}", shellQuote(bin))
}

// Target returns the exec-mode target that runs server p from the binary
// bin with the runner's default limits, or the client target of client p.
func (p Program) Target(bin string) engine.Target {
	if p.Shape != "" {
		shape, _ := spec.ParseShape(p.Shape) // validated by LoadClientsFile
		return engine.Target{Client: &engine.ClientTarget{Command: p.Command(bin), Shape: shape, TTY: p.TTY}}
	}
	return engine.Target{Exec: &engine.ExecSpec{Command: p.Command(bin)}, Network: p.Network}
}

// Catalogue returns the checks p is run against: spec.Clients() for a
// client, spec.UDP() for a UDP server, spec.All() otherwise.
func (p Program) Catalogue() []spec.Check {
	switch {
	case p.Shape != "":
		return spec.Clients()
	case p.Network == "udp":
		return spec.UDP()
	}
	return spec.All()
}

// CheckIDs returns the IDs of p's catalogue, in catalogue order.
func (p Program) CheckIDs() []string {
	var ids []string
	for _, c := range p.Catalogue() {
		ids = append(ids, c.ID)
	}
	return ids
}

// ResultIDs returns the IDs of r's results: the catalogue its run used.
func ResultIDs(r *engine.Report) []string {
	var ids []string
	for _, res := range r.Results {
		ids = append(ids, res.Check.ID)
	}
	return ids
}

// AllCheckIDs returns the IDs of every catalogue, TCP then UDP: what a
// manifest may name.
func AllCheckIDs() []string {
	return append(Program{}.CheckIDs(), Program{Network: "udp"}.CheckIDs()...)
}

// shellQuote quotes s for sh when it holds anything but safe characters.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// BuildAll builds every program of ps into dir, at most DefaultParallel at
// a time, and returns a map from name to binary. It returns every build
// failure, joined.
func (m *Manifest) BuildAll(ctx context.Context, ps []Program, dir string) (map[string]string, error) {
	type built struct {
		name, bin string
		err       error
	}
	results := make(chan built, len(ps))
	sem := make(chan struct{}, DefaultParallel)
	for _, p := range ps {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			bin, err := m.Build(ctx, p, dir)
			results <- built{p.Name, bin, err}
		}()
	}
	bins := make(map[string]string, len(ps))
	var errs []error
	for range ps {
		b := <-results
		if b.err != nil {
			errs = append(errs, b.err)
			continue
		}
		bins[b.name] = b.bin
	}
	return bins, errors.Join(errs...)
}

// ScriptExtensions are the source extensions of programs that are scripts,
// run by the interpreter their #! line names rather than compiled.
var ScriptExtensions = []string{".py", ".pl", ".sh"}

// scriptSource returns p's source when p is one script.
func scriptSource(p Program) (string, bool) {
	if len(p.Sources) != 1 || !slices.Contains(ScriptExtensions, path.Ext(p.Sources[0])) {
		return "", false
	}
	return p.Sources[0], true
}

// installScript copies the script src to out, executable, after checking
// that the interpreter its #! line names can be found.
func installScript(src, out string) (string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("gallery: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	argv := strings.Fields(strings.TrimPrefix(first, "#!"))
	if !strings.HasPrefix(first, "#!") || len(argv) == 0 {
		return "", fmt.Errorf("gallery: %s: a script must start with a #! line", src)
	}
	interp := argv[0]
	if path.Base(interp) == "env" && len(argv) > 1 {
		interp = argv[1]
	}
	if _, err := exec.LookPath(interp); err != nil {
		return "", fmt.Errorf("gallery: %s needs %s: %w", src, interp, err)
	}
	if err := os.WriteFile(out, data, 0o755); err != nil {
		return "", fmt.Errorf("gallery: %w", err)
	}
	return out, nil
}
