package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// deadlineMargin is how long before the test binary's -timeout TestServer
// stops the run, so that unfinished checks are reported, not a panic.
const deadlineMargin = 3 * time.Second

// TestServer checks the echo server listening at addr ("HOST:PORT") and
// reports each check as a subtest of t named by the check's ID. IDs contain a
// slash, so each subtest is nested in its category:
//
//	go test -run 'TestMyServer/halfclose'               # one category
//	go test -run 'TestMyServer/halfclose/small-pending' # one check
//	go test -run 'TestMyServer/(basic|partial)' -v      # two categories
//
// Each element of a -run pattern matches one level of the name, so
// 'TestMyServer/small-pending' matches nothing: give the category first
// ('TestMyServer/.*/small-pending').
//
// The selected checks run in one call of Run, so the engine's scheduling
// holds (each check's spec.Schedule) and every check has its watchdog. Results are reported in
// catalogue order as soon as they are known:
//
//   - a failure fails its subtest with the check's ID, level and requirement
//     and the diagnosis (spec.Failure.Report): byte counts, the ending event
//     and hex windows around the first differing byte;
//   - a violated SHOULD requirement is logged as a warning and does not fail
//     the subtest unless WithStrict is given;
//   - a check that does not apply (a process check against an address)
//     skips its subtest with the reason;
//   - a check the engine could not run fails its subtest.
//
// Subtest durations run from the start of the run to the check's result.
// A bad option or pattern fails t itself. TestServer stops the run shortly
// before the test binary's -timeout, so that slow checks are reported, not
// lost in a panic. It must be called from the goroutine running t, and
// returns when every subtest has finished.
func TestServer(t *testing.T, addr string, opts ...Option) {
	t.Helper()
	testTarget(t, engine.Target{Addr: addr}, engine.Apply(opts...))
}

// testTarget is TestServer and TestClient: one subtest per check of o
// that "go test -run" selects, all run against target in one engine.Run.
func testTarget(t *testing.T, target engine.Target, o engine.Options) {
	t.Helper()
	checks, err := engine.Select(o)
	if err != nil {
		t.Fatalf("echoconf: %v", err)
	}
	selected, wait := startSubtests(t, checks)
	defer wait()
	if len(selected) == 0 {
		return
	}
	o = runOnly(o, selected)
	ctx := t.Context()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}
	finished := make(chan runEnd, 1)
	go func() {
		rep, err := engine.Run(ctx, target, o)
		finished <- runEnd{rep, err}
	}()
	if end := release(selected, finished); end.err != nil {
		t.Errorf("echoconf: the checks could not run: %v", end.err)
	}
}

// pending is a subtest that "go test -run" selected, waiting for its
// check's result.
type pending struct {
	check  spec.Check
	final  chan engine.Result // from Progress: the check's final result
	result chan deliver       // to the subtest, in catalogue order
	done   chan struct{}
}

// runEnd is what engine.Run returned.
type runEnd struct {
	rep *engine.Report
	err error
}

// startSubtests creates one subtest per check, one at a time in catalogue
// order, so that "go test -run" decides which checks run, and returns
// those it selected. t.Run blocks until its subtest returns, so each is
// called from its own goroutine; a selected subtest signals that it started
// and then waits for its result. wait returns once every subtest ended.
func startSubtests(t *testing.T, checks []spec.Check) (selected []*pending, wait func()) {
	var wg sync.WaitGroup
	for _, c := range checks {
		p := &pending{
			check:  c,
			final:  make(chan engine.Result, 1),
			result: make(chan deliver, 1),
			done:   make(chan struct{}),
		}
		decided := make(chan bool, 1)
		wg.Go(func() {
			defer close(p.done)
			t.Run(c.ID, func(t *testing.T) {
				decided <- true
				reportResult(t, <-p.result)
			})
			select {
			case decided <- false:
			default:
			}
		})
		if <-decided {
			selected = append(selected, p)
		}
	}
	return selected, wg.Wait
}

// runOnly makes o run exactly the selected checks and hand each final
// result to its subtest, as well as to o's own Progress.
func runOnly(o engine.Options, selected []*pending) engine.Options {
	o.Run = make([]string, len(selected))
	byID := make(map[string]*pending, len(selected))
	for i, p := range selected {
		o.Run[i] = engine.QuoteGlob(p.check.ID)
		byID[p.check.ID] = p
	}
	o.Skip = nil
	userProgress := o.Progress
	o.Progress = func(ev engine.ProgressEvent) {
		if userProgress != nil {
			userProgress(ev)
		}
		if p := byID[ev.Check.ID]; ev.Kind == engine.ProgressEnd && ev.Result != nil && p != nil {
			select {
			case p.final <- *ev.Result:
			default: // already delivered; the first final result wins
			}
		}
	}
	return o
}

// release hands the subtests their results in catalogue order, each as soon
// as its result and those of the checks before it are known, and returns
// what Run returned.
func release(selected []*pending, finished <-chan runEnd) runEnd {
	var end *runEnd
	for _, p := range selected {
		var d deliver
		got := false
		if end == nil {
			select {
			case d.result = <-p.final:
				got = true
			case out := <-finished:
				end = &out
			}
		}
		if !got {
			// Run has returned, so Progress will not be called again.
			select {
			case d.result = <-p.final:
			default:
				d = fromReport(end.rep, end.err, p.check)
			}
		}
		p.result <- d
		<-p.done
	}
	if end == nil {
		out := <-finished
		end = &out
	}
	return *end
}

// deliver carries one check's result to its subtest; notRun is set when the
// engine gave none.
type deliver struct {
	result engine.Result
	notRun string
	strict bool
}

// fromReport finds c's result in rep, or explains why there is none.
func fromReport(rep *engine.Report, err error, c spec.Check) deliver {
	if err != nil {
		return deliver{result: engine.Result{Check: c}, notRun: fmt.Sprintf("not run: the checks could not run: %v", err)}
	}
	if rep != nil {
		for _, r := range rep.Results {
			if r.Check.ID == c.ID {
				return deliver{result: r, strict: rep.Strict}
			}
		}
	}
	return deliver{result: engine.Result{Check: c, Status: engine.StatusError, Err: errors.New("the engine returned no result for this check")}}
}

// reportResult turns one result into the outcome of its subtest.
func reportResult(t *testing.T, d deliver) {
	t.Helper()
	r := d.result
	if d.notRun != "" {
		t.Skip(d.notRun)
	}
	switch r.Status {
	case engine.StatusPass:
		if r.Runs > 1 {
			t.Logf("passed %d of %d runs", r.Runs-r.Failures, r.Runs)
		}
	case engine.StatusSkip:
		t.Skip(r.SkipReason())
	case engine.StatusWarn:
		t.Logf("warning: %v\n(a SHOULD requirement: not a failure unless WithStrict is given)", &CheckError{Result: r})
	case engine.StatusUnjudged:
		if d.strict {
			t.Error(&CheckError{Result: r})
		} else {
			t.Skip((&CheckError{Result: r}).Error())
		}
	case engine.StatusFail, engine.StatusError:
		t.Error(&CheckError{Result: r})
	default:
		t.Errorf("%s: unknown status %q: %v", r.Check.ID, r.Status, r.Err)
	}
}
