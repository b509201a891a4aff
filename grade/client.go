package grade

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/process"
	"github.com/echoconf/echoconf/spec"
)

// DefaultClientBinary is the program a client submission's build produces,
// unless Options.Binary says otherwise.
const DefaultClientBinary = "client"

// ClientOptions make a grading run grade echo clients: each submission's
// program is run once per client check (spec.Clients) against a server
// that echoconf plays. Options.Run is then the client's command line, with
// {host} and {port}, and {message} for an argument client (default
// "./client {host} {message} {port}" for one, "./client {host} {port}"
// otherwise).
//
// The client runs as the submission's user (Options.User, UIDBase), in its
// own session and process group, in the submission's work directory, and
// everything it starts is killed after each check. Like a server, it runs
// under the submission's resource limits and in its cgroup; each run is
// also bounded by its check's time limit and a bound on what it prints.
type ClientOptions struct {
	// Shape is how the clients take their input.
	Shape spec.Shape
	// TTY makes their stdin a terminal (not with ShapeStream).
	TTY bool
}

func (c *ClientOptions) defaultRun(binary string) string {
	if c.Shape == spec.ShapeArgument {
		return "./" + binary + " {host} {message} {port}"
	}
	return "./" + binary + " {host} {port}"
}

// validate checks the command line against the shape before anything is
// built, with the engine's own rules (engine.ClientTarget.ValidateCommand).
func (c *ClientOptions) validate(run, network string) error {
	if network != "tcp" {
		return errors.New("echo clients are graded over TCP only: drop --udp")
	}
	return engine.ClientTarget{Command: run, Shape: c.Shape, TTY: c.TTY}.ValidateCommand()
}

// runClientChecks runs the client catalogue against the client built in
// dir, as id.
func runClientChecks(ctx context.Context, dir string, o Options, id identity, is Isolation, box *container) (*engine.Report, error) {
	target := engine.Target{Client: &engine.ClientTarget{
		Command:    o.Run,
		Shape:      o.Client.Shape,
		TTY:        o.Client.TTY,
		Dir:        dir,
		Env:        []string{"HOME=" + dir, "TMPDIR=" + dir},
		Credential: id.cred,
		// The limits and the cgroup of a server: a client that forks
		// without end, or eats memory, harms no neighbour.
		Limits: process.Limits{FDLimit: o.FDLimit, ProcLimit: procLimitFor(o, id, is),
			CPULimit: o.CPULimit, MemoryLimit: o.MemoryLimit},
		Start: box.start(),
	}}
	rep, err := engine.Run(ctx, target, o.engineOptions())
	if err != nil {
		return nil, err
	}
	if err := unrunnable(rep, o.Run); err != nil {
		return rep, err
	}
	return rep, nil
}

// unrunnable returns the error of a check whose client could not be
// started at all (process.ErrProgram: it is no executable), which makes
// the submission one that built nothing that runs. Its message leaves out
// the address and message of that run, which differ from run to run.
func unrunnable(rep *engine.Report, command string) error {
	for _, r := range rep.Results {
		if r.Status != engine.StatusError || !errors.Is(r.Err, process.ErrProgram) {
			continue
		}
		cause := r.Err.Error()
		if m := runClientRE.FindStringSubmatch(cause); m != nil {
			cause = m[1]
		} else if i := strings.LastIndex(cause, process.ErrCommand.Error()+": "); i >= 0 {
			cause = cause[i+len(process.ErrCommand.Error())+2:]
		}
		return fmt.Errorf("%w: the client %q cannot be run: %s", process.ErrProgram, command, cause)
	}
	return nil
}

// runClientRE matches process.RunClient's error for a program that does
// not start, and captures the cause after its command line.
var runClientRE = regexp.MustCompile(`run client "(?:[^"\\]|\\.)*": (.*)$`)
