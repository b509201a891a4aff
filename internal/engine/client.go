package engine

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"

	"github.com/echoconf/echoconf/internal/process"
	"github.com/echoconf/echoconf/spec"
)

// ClientTarget is an echo client to check: Run plays its server, once per
// check, and runs its command line against it.
type ClientTarget struct {
	// Command is the client's command line. {host} and {port} are
	// replaced by the address of the server echoconf plays, and {message}
	// by the message of the argument shape.
	Command string
	// Shape is how the client takes its input.
	Shape spec.Shape
	// TTY makes the client's stdin a terminal, on which its input is
	// typed (for a client that reads differently from a terminal).
	TTY bool
	// Dir is the client's working directory ("" = current); Env is extra
	// environment, "NAME=value".
	Dir string
	Env []string
	// Credential runs the client as this uid/gid; nil keeps the runner's.
	Credential *syscall.Credential
	// Limits are the client's resource limits (none when zero).
	Limits process.Limits
	// Start, when set, starts each run of the client instead of
	// cmd.Start (a grader's sandbox).
	Start func(cmd *exec.Cmd) error
}

// clientOutputLimit bounds what a client may print: twice the largest
// input the client catalogue gives a client.
const clientOutputLimit = 16 << 20

// ValidateCommand checks the command line against the shape, before
// anything runs or is even built: it names {port}, and {message} exactly
// for the argument shape; a stream client has no terminal.
func (c ClientTarget) ValidateCommand() error {
	if strings.TrimSpace(c.Command) == "" {
		return errors.New("the client command is empty")
	}
	if c.Shape < spec.ShapeArgument || c.Shape > spec.ShapeStream {
		return fmt.Errorf("unknown client shape %d", int(c.Shape))
	}
	if !strings.Contains(c.Command, "{port}") {
		return fmt.Errorf("client command %q has no {port}: the client must be told the server's port", c.Command)
	}
	hasMessage := strings.Contains(c.Command, "{message}")
	switch {
	case c.Shape == spec.ShapeArgument && !hasMessage:
		return fmt.Errorf("client command %q has no {message}: an argument client needs a {message}", c.Command)
	case c.Shape != spec.ShapeArgument && hasMessage:
		return fmt.Errorf("client command %q has a {message}, but the %s shape reads its input from stdin", c.Command, c.Shape)
	case c.TTY && c.Shape == spec.ShapeStream:
		return errors.New("a stream client's large input cannot be typed on a terminal: drop --tty")
	}
	return nil
}

// validate checks the command line before any check runs: ValidateCommand,
// and that its program can be run (ErrCommand otherwise).
func (c ClientTarget) validate() error {
	if err := c.ValidateCommand(); err != nil {
		return err
	}
	return process.CheckClient(c.Command, c.Dir, c.Env)
}

// clientRunner runs a ClientTarget for the checks (spec.ClientRunner).
type clientRunner struct{ t ClientTarget }

func (r clientRunner) Shape() spec.Shape { return r.t.Shape }

func (r clientRunner) Run(ctx context.Context, host, port string, in spec.ClientInput) (*spec.ClientOutput, error) {
	run, err := process.RunClient(ctx, process.ClientSpec{
		Command: r.t.Command, Host: host, Port: port, Message: in.Message,
		Stdin: in.Stdin, TTY: r.t.TTY, Dir: r.t.Dir, Env: r.t.Env, Credential: r.t.Credential,
		Limits: r.t.Limits, Start: r.t.Start,
		Timeout: in.Limit, Idle: in.Idle, Watch: in.Watch, OutputLimit: clientOutputLimit,
	})
	if err != nil {
		return nil, err
	}
	return &spec.ClientOutput{
		Stdout: run.Stdout, Stderr: run.Stderr, Exited: run.Killed == "", ExitCode: run.ExitCode,
		Exit: run.Exit, Killed: run.Killed, Duration: run.Duration, Leftovers: run.Leftovers,
	}, nil
}

// targetRole checks that the selected checks suit the target: client
// checks (spec.NeedsClient) for a client target, server checks otherwise.
func targetRole(t Target, checks []spec.Check, sel []bool) error {
	for i, c := range checks {
		if !sel[i] {
			continue
		}
		switch client := c.Needs == spec.NeedsClient; {
		case client && t.Client == nil:
			return fmt.Errorf("check %s judges a client, and the target is a server", c.ID)
		case !client && t.Client != nil:
			return fmt.Errorf("check %s judges a server, and the target is a client", c.ID)
		}
	}
	return nil
}
