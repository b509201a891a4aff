// Package validate runs the third-party readers of echoconf's reports, so
// that tests check each format with its consumers' own tools, never with a
// parser of ours: xmllint against the JUnit schemas, node's tap-parser and
// Perl's prove for TAP, test-results-parser for JUnit totals, and headless
// Chromium for HTML.
//
// A tool that is not installed is a *MissingError; tests skip on it with
// its reason, except in CI (CI=true), where it is a failure: CI installs
// every tool (.ci/run).
package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// toolTimeout bounds each run of a tool.
const toolTimeout = 90 * time.Second

// MissingError says that a tool is not installed, and how to install it.
type MissingError struct {
	Tool    string
	Install string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s is not installed (%s)", e.Tool, e.Install)
}

// InCI reports whether the tests run in CI (CI=true), where a missing tool
// is a failure, not a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Absent returns the reason to skip when err says a tool is missing and the
// tests do not run in CI; ok is false otherwise (err is then nil or a
// failure).
func Absent(err error) (reason string, ok bool) {
	var m *MissingError
	if errors.As(err, &m) && !InCI() {
		return m.Error() + "; .ci/run installs it", true
	}
	return "", false
}

// Root returns the repository root: the nearest directory, from the working
// directory up, that holds testdata/validators/package.json.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for range 20 {
		if _, err := os.Stat(filepath.Join(dir, "testdata", "validators", "package.json")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("no testdata/validators/package.json above the working directory")
}

// Schema returns the path of a schema in testdata/schemas: "ant-junit.xsd",
// "junit-10.xsd" or "junit-4.xsd".
func Schema(name string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "testdata", "schemas", name), nil
}

// JUnitSchemas are the schemas every JUnit report must satisfy.
var JUnitSchemas = []string{"ant-junit.xsd", "junit-10.xsd", "junit-4.xsd"}

// run runs a tool in its own process group, bounded by toolTimeout, and
// kills the group when it ends.
func run(dir string, stdin []byte, name string, args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %v: %w", name, toolTimeout, err)
	}
	return out.Bytes(), errOut.Bytes(), err
}

func lookPath(tool, install string) (string, error) {
	p, err := exec.LookPath(tool)
	if err != nil {
		return "", &MissingError{Tool: tool, Install: install}
	}
	return p, nil
}

// XMLLint validates the XML file doc against the schema (a name from
// JUnitSchemas), and returns xmllint's complaint when it is not valid.
func XMLLint(schema, doc string) error {
	bin, err := lookPath("xmllint", "apt-get install libxml2-utils")
	if err != nil {
		return err
	}
	xsd, err := Schema(schema)
	if err != nil {
		return err
	}
	_, stderr, err := run("", nil, bin, "--noout", "--nonet", "--schema", xsd, doc)
	if err != nil {
		return fmt.Errorf("xmllint --schema %s: %w\n%s", schema, err, stderr)
	}
	return nil
}

// Prove runs Perl's prove on the TAP document, as the output of a test
// script, and returns its output; err is set when prove reports a failure
// ("Result: FAIL").
func Prove(doc []byte) (string, error) {
	bin, err := lookPath("prove", "apt-get install perl")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "echoconf-prove-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "report.tap")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		return "", err
	}
	stdout, stderr, err := run(dir, nil, bin, "--verbose", "--exec", "cat", path)
	out := string(stdout) + string(stderr)
	if err != nil {
		return out, fmt.Errorf("prove: %w", err)
	}
	return out, nil
}

// node runs one of the scripts in testdata/validators with node, feeding
// stdin, and returns its standard output.
func node(script string, stdin []byte, args ...string) ([]byte, error) {
	bin, err := lookPath("node", "apt-get install nodejs npm")
	if err != nil {
		return nil, err
	}
	root, err := Root()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "testdata", "validators")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tap-parser", "package.json")); err != nil {
		return nil, &MissingError{Tool: "tap-parser and test-results-parser", Install: "cd testdata/validators && npm ci"}
	}
	stdout, stderr, err := run(dir, stdin, bin, append([]string{script}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w\n%s", script, err, strings.TrimSpace(string(stderr)))
	}
	return stdout, nil
}
