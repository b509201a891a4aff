package process

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Defaults that Spec.WithDefaults applies to fields left zero.
const (
	// DefaultStartupTimeout bounds how long an exec'd server has to accept.
	DefaultStartupTimeout = 5 * time.Second
	// DefaultFDLimit is the RLIMIT_NOFILE of an exec'd server: low enough
	// that a descriptor leak shows up within the catalogue.
	DefaultFDLimit = 256
	// DefaultOutputLimit is how many bytes of an exec'd server's stdout and
	// stderr are kept.
	DefaultOutputLimit = 64 << 10
)

// Spec describes a server that Run starts itself (exec mode).
//
// The command is split into words with shell-like quoting ('…', "…", \);
// {port} is replaced in every word by a free port on 127.0.0.1. A command
// that contains shell syntax outside quotes ($, |, &, ;, <, >, `, parentheses,
// globs or a newline) is run by /bin/sh -c instead, prefixed with exec when
// it is a single simple command so that the server, not the shell, is the
// process the checks observe.
type Spec struct {
	Command        string        // e.g. "./server {port}"; {port} is replaced by a free port
	Network        string        // "tcp" (the default) or "udp": what the server serves, and how readiness is probed
	Dir            string        // working directory ("" = current)
	Env            []string      // extra environment, "NAME=value"
	StartupTimeout time.Duration // wait for it to accept (default 5s)
	FDLimit        int           // RLIMIT_NOFILE (default 256)
	ProcLimit      int           // RLIMIT_NPROC (0 = unlimited)
	CPULimit       time.Duration // RLIMIT_CPU, rounded up to whole seconds (0 = unlimited)
	MemoryLimit    int64         // RLIMIT_AS in bytes (0 = unlimited)
	// Credential runs the server as this uid/gid; nil keeps the runner's.
	Credential  *syscall.Credential
	OutputLimit int  // bytes of stdout+stderr kept (default 64 KiB)
	Restart     bool // restart the server after it dies, for the remaining checks
	// Start, when set, starts each incarnation's prepared command in place
	// of cmd.Start: package grade uses it to start the server inside a
	// cgroup. It must return once the process runs or failed to start,
	// without waiting for it, and may add to cmd.SysProcAttr but not
	// change what is set there.
	Start func(cmd *exec.Cmd) error
}

func (e Spec) WithDefaults() (Spec, error) {
	x := e
	if strings.TrimSpace(x.Command) == "" {
		return x, errors.New("empty exec command")
	}
	if !strings.Contains(x.Command, "{port}") {
		return x, fmt.Errorf("exec command %q has no {port} placeholder", x.Command)
	}
	network, err := Network(x.Network)
	if err != nil {
		return x, err
	}
	x.Network = network
	if x.StartupTimeout == 0 {
		x.StartupTimeout = DefaultStartupTimeout
	}
	if x.FDLimit == 0 {
		x.FDLimit = DefaultFDLimit
	}
	if x.OutputLimit == 0 {
		x.OutputLimit = DefaultOutputLimit
	}
	switch {
	case x.StartupTimeout < 0:
		return x, fmt.Errorf("negative startup timeout %v", x.StartupTimeout)
	case x.FDLimit < 0 || x.ProcLimit < 0 || x.CPULimit < 0 || x.MemoryLimit < 0 || x.OutputLimit < 0:
		return x, errors.New("negative resource limit")
	case x.FDLimit < 8:
		return x, fmt.Errorf("fd limit %d too low to run a server (need at least 8)", x.FDLimit)
	}
	argv, err := commandArgv(x.Command, "0")
	if err != nil {
		return x, err
	}
	if err := checkRunnable(argv, x.Dir, x.Env); err != nil {
		return x, err
	}
	if err := checkFDLimit(&x); err != nil {
		return x, err
	}
	return x, nil
}

// Network returns n, "tcp" or "udp", with "" meaning "tcp", or an error
// for any other network.
func Network(n string) (string, error) {
	switch n {
	case "":
		return "tcp", nil
	case "tcp", "udp":
		return n, nil
	}
	return "", fmt.Errorf("unknown network %q: want tcp or udp", n)
}
