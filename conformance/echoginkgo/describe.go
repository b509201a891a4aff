// Package echoginkgo runs the echoconf catalogue inside a Ginkgo v2 suite and
// offers Gomega matchers for echo behaviour.
//
// DescribeServer adds one spec per check to the user's suite, and
// DescribeClient does so for an echo client; EchoBack and
// PassCheck are matchers for hand-written specs. This is the only non-test
// package of the module that imports Ginkgo and Gomega.
package echoginkgo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:staticcheck // the Ginkgo DSL reads best unqualified
	"github.com/onsi/ginkgo/v2/types"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// SpecTimeoutGrace is added to each check's scaled timeout to make its
// SpecTimeout. The engine's own watchdog fires first and reports what the
// check saw; the SpecTimeout is only a backstop.
const SpecTimeoutGrace = 10 * time.Second

// DescribeServer adds a container named text to the suite under
// construction, holding one It per check of the catalogue (or of the checks
// that conformance.WithRun and WithSkip select), in catalogue order. Call it
// where Describe may be called: at the top level of a test file
// (var _ = DescribeServer(...)) or inside a container. It returns true, like
// Describe.
//
// addr is called when each spec runs, not when the tree is built, so the
// server may be started in BeforeSuite or BeforeEach. It returns "HOST:PORT".
//
// args mixes Ginkgo decorators, applied to the container (Label, Serial,
// FlakeAttempts, ...), with conformance.Option values, which tune the checks
// (conformance.WithStrict(), conformance.WithTimeoutScale(3), ...).
//
// Each It is named by the check's ID and carries:
//   - Labels with its category and level ("halfclose", "must"; "should" for
//     hygiene checks), and "exclusive" for checks that must run alone, so
//     --label-filter selects them ("halfclose && must", "!exclusive");
//   - a SpecTimeout of the check's timeout, scaled, plus SpecTimeoutGrace;
//   - the Serial decorator when the check runs Alone, so that under
//     "ginkgo -p" it runs alone, after the parallel specs;
//   - the code location of the DescribeServer call, so reports point at the
//     user's suite rather than at this package (the "In [It] at:" line of a
//     failure still names this package, since Ginkgo takes it from the
//     stack).
//
// Each spec runs its one check through engine.Run against addr(). A
// failure fails the spec with the check's ID, level, requirement and
// diagnosis (spec.Failure.Report); a check that does not apply skips the
// spec with the reason; a violated SHOULD requirement only adds a report
// entry named "echoconf warning" unless conformance.WithStrict is given. A
// bad option or pattern becomes a single failing spec, since Ginkgo forbids
// failing while the tree is built.
func DescribeServer(text string, addr func() string, args ...any) bool {
	target := func() (engine.Target, error) {
		a := addr()
		if a == "" {
			return engine.Target{}, errors.New("DescribeServer's addr function returned an empty address")
		}
		return engine.Target{Addr: a}, nil
	}
	return describeChecks(text, types.NewCodeLocation(1), target, nil, args)
}

// DescribeClient is DescribeServer for an echo client: one It per check of
// the client catalogue (spec.Clients), or of the checks that
// conformance.WithRun and WithSkip select, each of which plays a server
// and runs the client once. client is called when each spec runs, so the
// client may be built in BeforeSuite; it returns the client's command line
// and shape (see conformance.Client). A check that does not apply to the
// client's shape skips its spec with the reason. args, labels, timeouts,
// code locations and outcomes are as for DescribeServer.
func DescribeClient(text string, client func() conformance.Client, args ...any) bool {
	target := func() (engine.Target, error) {
		c := client()
		if c.Command == "" {
			return engine.Target{}, errors.New("DescribeClient's client function returned no command")
		}
		return engine.Target{Client: &c}, nil
	}
	return describeChecks(text, types.NewCodeLocation(1), target, spec.Clients(), args)
}

// describeChecks adds the container of DescribeServer and DescribeClient, whose
// call is at cl: one It per selected check of the catalogue (checks when
// the options give none), each run alone against target().
func describeChecks(text string, cl types.CodeLocation, target func() (engine.Target, error), checks []spec.Check, args []any) bool {
	var (
		opts       []conformance.Option
		decorators = []any{cl}
	)
	for _, a := range args {
		if o, ok := a.(conformance.Option); ok {
			opts = append(opts, o)
			continue
		}
		decorators = append(decorators, a)
	}
	o := engine.Apply(opts...)
	if o.Checks == nil {
		o.Checks = checks
	}
	selected, err := engine.Select(o)
	body := func() {
		if err != nil {
			It("has valid echoconf options", cl, func() {
				Fail("echoconf: " + err.Error())
			})
			return
		}
		for _, c := range selected {
			decos := []any{
				cl,
				Label(c.Category(), strings.ToLower(c.Level.String())),
				SpecTimeout(o.CheckTimeout(c) + SpecTimeoutGrace),
			}
			if c.Schedule == spec.Alone {
				decos = append(decos, Serial, Label("exclusive"))
			}
			It(c.ID, append(decos, func(ctx SpecContext) {
				runCheck(ctx, target, o, c)
			})...)
		}
	}
	return Describe(text, append(decorators, body)...)
}

// runCheck runs c alone through the engine and turns its result into the
// spec's outcome.
func runCheck(ctx context.Context, target func() (engine.Target, error), o engine.Options, c spec.Check) {
	GinkgoHelper()
	t, err := target()
	if err != nil {
		Fail("echoconf: " + err.Error())
	}
	res, err := runOne(ctx, t, o, c.ID)
	if err != nil {
		Fail("echoconf: " + err.Error())
	}
	switch res.Status {
	case engine.StatusPass:
	case engine.StatusSkip:
		Skip(res.SkipReason())
	case engine.StatusWarn:
		AddReportEntry("echoconf warning", (&conformance.CheckError{Result: res}).Error())
	case engine.StatusUnjudged:
		if o.Strict {
			Fail((&conformance.CheckError{Result: res}).Error())
		}
		Skip((&conformance.CheckError{Result: res}).Error())
	case engine.StatusFail, engine.StatusError:
		Fail((&conformance.CheckError{Result: res}).Error())
	default:
		Fail(fmt.Sprintf("echoconf: %s: unknown status %q: %v", c.ID, res.Status, res.Err))
	}
}

// runOne runs the check with the given ID, and only it, against t.
func runOne(ctx context.Context, t engine.Target, o engine.Options, id string) (engine.Result, error) {
	o.Run = []string{engine.QuoteGlob(id)}
	o.Skip = nil
	rep, err := engine.Run(ctx, t, o)
	if err != nil {
		return engine.Result{}, err
	}
	for _, r := range rep.Results {
		if r.Check.ID == id {
			return r, nil
		}
	}
	return engine.Result{}, fmt.Errorf("the engine returned no result for %s", id)
}
