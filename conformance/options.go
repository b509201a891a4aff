package conformance

import (
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// An Option tunes Run, TestServer, CheckServer and the echoginkgo entry
// points. Options apply in order; a later one wins.
type Option = engine.Option

// WithRun selects checks by ID, with path.Match globs
// ("halfclose/*", "*/large-*", or a bare category such as "halfclose"). A
// malformed glob, or one that matches no check, makes the run fail.
// Several calls add up.
func WithRun(globs ...string) Option {
	return func(o *engine.Options) { o.Run = append(o.Run, globs...) }
}

// WithSkip leaves out checks whose ID matches one of the globs, which take
// the same form as WithRun's. Several calls add up.
func WithSkip(globs ...string) Option {
	return func(o *engine.Options) { o.Skip = append(o.Skip, globs...) }
}

// WithStrict makes a violated SHOULD requirement fail, instead of
// warning. Without it such a violation is only a warning: TestServer logs it
// and CheckServer leaves it out of its error.
func WithStrict() Option {
	return func(o *engine.Options) { o.Strict = true }
}

// WithTimeoutScale stretches every timeout of every check by scale, for
// slow machines or servers under a debugger or the race detector.
func WithTimeoutScale(scale float64) Option {
	return func(o *engine.Options) { o.TimeoutScale = scale }
}

// WithSeed sets the seed every payload is derived from. The default seed is
// fixed, so runs repeat byte for byte unless the seed is changed.
func WithSeed(seed uint64) Option {
	return func(o *engine.Options) { o.Seed = seed }
}

// WithRepeat runs each check n times; a check whose runs disagree is
// reported as flaky.
func WithRepeat(n int) Option {
	return func(o *engine.Options) { o.Repeat = n }
}

// WithChecks replaces the catalogue (spec.All() by default) with checks.
func WithChecks(checks ...spec.Check) Option {
	return func(o *engine.Options) { o.Checks = checks }
}

// WithParallel runs at most n checks at once (default 6; 1 runs every
// check alone).
func WithParallel(n int) Option {
	return func(o *engine.Options) { o.Parallel = n }
}

// WithConfirmAlone re-runs alone each check that failed while others ran,
// and reports that run: a server that serves one client at a time then
// fails only the concurrency checks.
func WithConfirmAlone() Option {
	return func(o *engine.Options) { o.ConfirmAlone = true }
}
