package conformance

import (
	"context"
	"testing"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// Client is an echo client to check: its command line (Command), with
// {host} and {port} for the server that echoconf plays, and {message} for
// an argument client; how it takes its input (Shape); and optionally a
// terminal for its stdin (TTY), its directory, environment and
// credential. Run, TestClient and CheckClient start it once per check.
type Client = engine.ClientTarget

// clientOptions applies opts with the client catalogue (spec.Clients) as
// the default one.
func clientOptions(opts []Option) engine.Options {
	o := engine.Apply(opts...)
	if o.Checks == nil {
		o.Checks = spec.Clients()
	}
	return o
}

// CheckClient checks the echo client c with the client catalogue
// (spec.Clients), or the checks that WithRun and WithSkip select, and
// returns nil when it is conformant. Otherwise it returns errors.Join of
// one *CheckError per check that failed or could not run, in catalogue
// order; violated SHOULD requirements are left out unless WithStrict is
// given. A check that does not apply to c's shape is not an error.
//
// It returns a plain error, not a *CheckError, when the checks could not run
// at all: a bad option or pattern, or a command that does not fit the
// shape or whose program cannot be run (ErrCommand). It returns once every
// run of the client, and everything it started, is gone.
func CheckClient(ctx context.Context, c Client, opts ...Option) error {
	return checkTarget(ctx, engine.Target{Client: &c}, clientOptions(opts))
}

// TestClient checks the echo client c with the client catalogue, as
// CheckClient does, and reports each check as a subtest of t named by the
// check's ID (client/sends-exact, ...), as TestServer does: "go test -run
// 'TestMyClient/client/short-reads'" runs one check. A check that does not
// apply to c's shape skips its subtest with the reason.
func TestClient(t *testing.T, c Client, opts ...Option) {
	t.Helper()
	testTarget(t, engine.Target{Client: &c}, clientOptions(opts))
}
