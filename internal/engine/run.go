package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/echoconf/echoconf/internal/process"
	"github.com/echoconf/echoconf/spec"
)

// Engine time limits at scale 1.
const (
	// watchdogGrace is how long a check has to return after its watchdog
	// fired and its connections were closed; past it the check is abandoned
	// and reported as an error.
	watchdogGrace = 2 * time.Second
	// preflightTimeout bounds the single connection Run makes to a
	// HOST:PORT target before any check, to report an unreachable target
	// quickly.
	preflightTimeout = 3 * time.Second
	// deathGrace is how long, after a check run that did not pass, the
	// runner waits for an exec'd server that may be dying to be reaped.
	deathGrace = 100 * time.Millisecond
)

// Run checks the target against the catalogue and returns the report. A
// client target (Target.Client) is checked against spec.Clients(): each
// check plays its own server and runs the client's command against it.
//
// Run returns an error only when it cannot run at all: invalid options,
// an invalid address, a malformed or unmatched selection pattern, a
// selection of checks that judge the other role (a client or a server), an
// exec or client command without {port}, a client command whose placeholders
// do not suit its shape, or one that cannot be run (ErrCommand: its
// program is not found or not executable, its limits cannot be set, or it
// ends with exit status 126 or 127, the shell's "cannot execute" and
// "not found", before it listens). An unreachable target, a server that never
// listens, or one that dies is a Report whose checks fail.
//
// Guarantees: Run never panics because of a check (a panic is recovered
// and reported as StatusError); every check has a watchdog (its Timeout
// times TimeoutScale) after which its connections are closed; a check that
// still does not return is abandoned as StatusError; the whole run has a
// deadline; in exec mode the server's process group is killed before Run
// returns. Report.Results holds one Result per check of the catalogue, in
// catalogue order, whatever order they ran in; unselected checks are
// StatusSkip.
//
// Scheduling follows each check's spec.Schedule: the Together checks run
// first, Options.Parallel at a time (those left all at once, for a server
// whose first Options.Parallel checks to end got not a byte before their
// silence timeout); then each Alone check, one at a time
// in catalogue order (all at once when the server answered none of the
// first checks, nor the Probe check alone: they can only time out as those
// did; with ConfirmAlone, all at once and then alone again but for their
// spec.Failure.Held failures, when a first check had such a failure); then the Disruptive checks together, so a server that crashes
// under abuse fails no unrelated check; then the Last checks. A NeedsProcess
// check is skipped when Run did not start the server.
func Run(ctx context.Context, t Target, o Options) (*Report, error) {
	switch {
	case o.Checks == nil && t.Client != nil:
		o.Checks = spec.Clients()
	case o.Checks == nil && t.Network == "udp":
		o.Checks = spec.UDP()
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	sel, err := selection(o.Checks, o.Run, o.Skip)
	if err != nil {
		return nil, err
	}
	if err := targetRole(t, o.Checks, sel); err != nil {
		return nil, err
	}
	network, err := targetNetwork(t, o.Checks, sel)
	if err != nil {
		return nil, err
	}
	e := &engine{o: o, checks: o.Checks, sel: sel, network: network}
	switch {
	case t.Addr != "" && t.Exec != nil:
		return nil, errors.New("target has both an address and an exec command")
	case t.Client != nil && (t.Addr != "" || t.Exec != nil):
		return nil, errors.New("target is both a client and a server")
	case t.Client != nil:
		if err := t.Client.validate(); err != nil {
			return nil, err
		}
		e.client = &clientRunner{t: *t.Client}
	case t.Exec != nil:
		x := *t.Exec
		if x.Network == "" {
			x.Network = e.network
		}
		if x.Network != e.network {
			return nil, fmt.Errorf("the target's network is %s but its exec spec's is %s", e.network, x.Network)
		}
		x, err := x.WithDefaults()
		if err != nil {
			return nil, err
		}
		e.exec = &x
	case t.Addr != "":
		if err := ValidateAddr(t.Addr); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("no target: give an address or an exec command")
	}
	rep := &Report{Target: t.String(), Started: time.Now(), Strict: o.Strict,
		Seed: o.Seed, TimeoutScale: o.TimeoutScale, Exec: t.Exec != nil, Network: e.network}
	if t.Client != nil {
		rep.Client = &ClientInfo{Shape: t.Client.Shape.String(), TTY: t.Client.TTY}
	}
	e.run(ctx, t.Addr)
	if e.cmdErr != nil {
		return nil, e.cmdErr
	}
	rep.Results = e.results
	if e.srv != nil {
		rep.Server = e.info
	}
	rep.Duration = time.Since(rep.Started)
	return rep, nil
}

// targetNetwork is t's network: as t names it, or else the one the selected
// checks share (each check's spec.Check.Network). A selection whose checks
// need another network than the target's is an error.
func targetNetwork(t Target, checks []spec.Check, sel []bool) (string, error) {
	want := ""
	for i, c := range checks {
		if !sel[i] {
			continue
		}
		n, err := process.Network(c.Network)
		if err != nil {
			return "", fmt.Errorf("check %s: %w", c.ID, err)
		}
		if want != "" && n != want {
			return "", fmt.Errorf("the selection mixes %s checks and %s checks (%s)", want, n, c.ID)
		}
		want = n
	}
	network, err := process.Network(t.Network)
	switch {
	case err != nil:
		return "", err
	case t.Network == "" && want != "":
		return want, nil
	case want != "" && want != network:
		return "", fmt.Errorf("the target serves %s but the selected checks need %s", network, want)
	}
	return network, nil
}

// engine is the state of one Run.
type engine struct {
	o      Options
	checks []spec.Check
	sel    []bool
	exec   *process.Spec

	results []Result // one per check, catalogue order
	index   []int    // position among the selected checks, or -1
	total   int

	network string // "tcp" or "udp"
	client  *clientRunner
	srv     *process.Supervisor
	info    *process.Info
	addr    func() string
	down    *spec.Failure // set when every check fails fast (unreachable)
	cmdErr  error         // set when the exec command cannot be run at all
	runCtx  context.Context
	progMu  sync.Mutex
	started map[string]time.Time
}

func (e *engine) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * e.o.TimeoutScale)
}

func (e *engine) timeout(c spec.Check) time.Duration { return e.o.CheckTimeout(c) }

func (e *engine) run(ctx context.Context, addr string) {
	e.results = make([]Result, len(e.checks))
	e.index = make([]int, len(e.checks))
	order := make(map[string]int, len(e.checks))
	var budget time.Duration
	for i, c := range e.checks {
		order[c.ID] = i
		e.results[i] = Result{Check: c}
		e.index[i] = -1
		if e.sel[i] {
			e.index[i] = e.total
			e.total++
			budget += (e.timeout(c) + e.scaled(watchdogGrace)) * time.Duration(e.o.Repeat)
		} else {
			e.results[i].Status = StatusSkip
			e.results[i].Err = &spec.Skipped{Reason: ReasonNotSelected}
			e.results[i].NotSelected = true
		}
	}
	deadline := e.o.Deadline
	if deadline == 0 {
		deadline = budget + 10*time.Second
		if e.exec != nil {
			deadline += e.exec.StartupTimeout * 2
		}
	}
	runCtx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	e.runCtx = runCtx

	if e.exec != nil {
		e.srv = process.NewSupervisor(*e.exec, order)
		e.addr = e.srv.Addr
		if err := e.srv.Start(runCtx); err != nil {
			e.down = startupFailure(err)
			if e.cmdErr = e.srv.NotRunnable(err); e.cmdErr != nil {
				e.info, _ = e.srv.Shutdown()
				return
			}
		}
	} else if e.client == nil {
		e.addr = func() string { return addr }
		e.down = preflight(runCtx, e.network, addr, e.scaled(preflightTimeout))
	}

	var phases [4][]int
	for i, c := range e.checks {
		switch {
		case !e.sel[i]:
		default:
			phases[c.Schedule] = append(phases[c.Schedule], i)
		}
	}
	e.parallel(phases[0], e.client == nil)
	switch {
	case e.silent(phases[0]):
		// The server answers no one, not even a lone client: the
		// exclusive checks can only time out as the first ones did, so
		// they need not wait their turn one after another.
		e.pool(phases[1], e.o.Parallel)
	case e.holds(phases[0]):
		e.together(phases[1])
	default:
		e.pool(phases[1], 1)
	}
	e.parallel(phases[2], false)
	e.pool(phases[3], 1)

	if e.srv != nil {
		e.info, _ = e.srv.Shutdown()
	}
}

// parallel runs a group of non-exclusive checks Options.Parallel at a
// time (all that are left at once, with widen, once the first
// Options.Parallel to end found the server silent: see dispatch), then,
// with Options.ConfirmAlone, re-runs alone each that failed (see
// ConfirmAlone for when it does not, and spec.Failure.Held).
func (e *engine) parallel(idx []int, widen bool) {
	e.dispatch(idx, e.o.Parallel, widen)
	if !e.confirming() {
		return
	}
	var failed []int
	passed := false
	for _, i := range idx {
		switch e.results[i].Status {
		case StatusPass:
			passed = true
		case StatusFail, StatusWarn:
			if f := e.results[i].Failure(); f != nil && f.Held > 0 {
				continue // the server read the bytes and kept them: not a wait for another client
			}
			failed = append(failed, i)
		}
	}
	if passed {
		e.pool(failed, 1)
	}
}

// silent reports whether the server answered none of the checks at idx,
// each of which waited out its silence timeout without receiving a byte
// (a timeout, or a FIN that never came), and then, alone, did not answer
// the Probe check either. The probe's run is not reported: it only decides
// how the exclusive checks are scheduled.
func (e *engine) silent(idx []int) bool {
	if len(idx) < 3 || e.serverGone() {
		return false
	}
	probe := -1
	for _, i := range idx {
		f := e.results[i].Failure()
		if !silentFailure(f) {
			return false
		}
		if e.checks[i].Probe {
			probe = i
		}
	}
	if probe < 0 {
		return false
	}
	out, _ := e.runOnce(e.checks[probe])
	f, _ := out.err.(*spec.Failure)
	return silentFailure(f)
}

// silentFailure reports whether f is a wait for an echo that ended with
// the silence timeout, not a byte received.
func silentFailure(f *spec.Failure) bool {
	return f != nil && f.Ending == spec.EventTimeout && f.Received == 0
}

// pool runs the checks at the given catalogue indices, n at a time; each
// result lands at its own index.
func (e *engine) pool(idx []int, n int) { e.dispatch(idx, n, false) }

// dispatch is pool; with widen, once the first n checks to end have all
// waited out their silence without receiving a byte (silentFailure), the
// checks not yet started start at once: they can only wait as those did,
// and need not wait their turn. The verdict cannot change: those first
// checks failed whatever the others do. A server that answers any of the
// first n keeps the bound of n.
func (e *engine) dispatch(idx []int, n int, widen bool) {
	if len(idx) == 0 {
		return
	}
	n = max(1, min(n, len(idx)))
	jobs := make(chan int)
	wide := make(chan struct{}) // closed when the first n ended in silence
	var (
		wg                sync.WaitGroup
		mu                sync.Mutex
		ended, wereSilent int
	)
	work := func() {
		for i := range jobs {
			r := e.runCheck(i)
			e.results[i] = r
			if !widen {
				continue
			}
			mu.Lock()
			ended++
			if silentFailure(r.Failure()) {
				wereSilent++
			}
			if ended == n && wereSilent == n {
				close(wide)
			}
			mu.Unlock()
		}
	}
	for range n {
		wg.Go(work)
	}
	widened := false
	for k, i := range idx {
		if !widened {
			select {
			case jobs <- i:
				continue
			case <-wide:
				widened = true
				for range len(idx) - k {
					wg.Go(work)
				}
			}
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// outcome is one run of a check.
type outcome struct {
	status   Status
	err      error
	dur      time.Duration
	died     string // how the server died while this run was in flight
	timeline *Timeline
}

// runCheck runs check i Repeat times and returns its aggregated result.
func (e *engine) runCheck(i int) Result {
	c := e.checks[i]
	res := Result{Check: c}
	e.progress(ProgressEvent{Kind: ProgressStart, Check: c, Index: e.index[i], Total: e.total})
	defer func() {
		r := res
		e.progress(ProgressEvent{Kind: ProgressEnd, Check: c, Index: e.index[i], Total: e.total, Result: &r})
	}()
	var outs []outcome
	for r := 0; r < e.o.Repeat; r++ {
		out, stop := e.runOnce(c)
		outs = append(outs, out)
		if stop {
			break
		}
	}
	res = aggregate(c, outs)
	return res
}

// runOnce runs check c once. stop is true when repeating is pointless:
// the check was skipped, could not start, or was abandoned.
func (e *engine) runOnce(c spec.Check) (out outcome, stop bool) {
	start := time.Now()
	defer func() { out.dur = time.Since(start) }()
	if err := e.runCtx.Err(); err != nil {
		return outcome{status: StatusError, err: notRunError(e.runCtx)}, true
	}
	if c.Needs == spec.NeedsProcess && e.exec == nil {
		return outcome{status: StatusSkip, err: &spec.Skipped{Reason: spec.ReasonNeedsProcess}}, true
	}
	if e.down != nil {
		return e.classify(c, e.down), true
	}
	env := &spec.Env{Scale: e.o.TimeoutScale, Seed: e.o.Seed}
	if e.srv != nil {
		finish, err := e.attach(c, env)
		if err != nil {
			return e.classify(c, serverDownFailure(err)), true
		}
		defer func() { out = finish(out) }()
	}
	tr := &connTracker{}
	if e.client != nil {
		env.Client = e.client
	} else {
		env.Dial = tr.dialer(e.network, e.addr, e.o.TimeoutScale)
	}
	abandoned, err := e.watch(c, env, tr)
	if abandoned != nil {
		return *abandoned, true
	}
	out = e.classify(c, err)
	if out.status != StatusPass && out.status != StatusSkip {
		out.timeline = tr.timeline()
	}
	return out, out.status == StatusSkip
}

// attach gives env the running server's process, restarting it if needed,
// and returns what folds a death during the check into its outcome.
func (e *engine) attach(c spec.Check, env *spec.Env) (finish func(outcome) outcome, err error) {
	p, err := e.srv.Ensure(e.runCtx)
	if err != nil {
		return nil, err
	}
	env.Process = e.srv.View(p)
	mark := e.srv.Begin(c.ID)
	return func(out outcome) outcome {
		failed := out.status != StatusPass && out.status != StatusSkip
		if failed {
			// The server may be dying of what this check did: its sockets
			// close a moment before it can be reaped. Wait a little, so the
			// death is attributed to this check and the next one is not
			// dispatched to a corpse.
			t := time.NewTimer(e.scaled(deathGrace))
			select {
			case <-p.Done():
			case <-t.C:
			}
			t.Stop()
		}
		// Fold the death in now, so the progress event that follows
		// carries the check's final result.
		if d, ok := e.srv.Finish(c.ID, p, mark, failed); ok {
			out = diedDuring(out, d)
		}
		return out
	}, nil
}

// watch runs c under its watchdog. When the watchdog fires it closes the
// check's connections and waits watchdogGrace for c to return; a check
// that still has not returned is abandoned, and the run ends with an
// outcome that is not c's own (abandoned, or the run's deadline).
func (e *engine) watch(c spec.Check, env *spec.Env, tr *connTracker) (abandoned *outcome, err error) {
	limit := e.timeout(c)
	ctx, cancel := context.WithTimeout(e.runCtx, limit)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- &panicError{value: r, stack: debug.Stack()}
			}
		}()
		done <- c.Run(ctx, env)
	}()
	select {
	case err = <-done:
		tr.closeAll()
		return nil, err
	case <-ctx.Done():
	}
	tr.closeAll()
	grace := time.NewTimer(e.scaled(watchdogGrace))
	defer grace.Stop()
	select {
	case err = <-done:
	case <-grace.C:
		return &outcome{status: StatusError, err: fmt.Errorf(
			"the check did not return within %v after its %v watchdog fired and its connections were closed; abandoned",
			e.scaled(watchdogGrace), limit)}, nil
	}
	var pe *panicError
	var f *spec.Failure
	var sk *spec.Skipped
	switch {
	case errors.As(err, &pe), errors.As(err, &f), errors.As(err, &sk):
		return nil, err
	case e.runCtx.Err() != nil:
		return &outcome{status: StatusError, err: notRunError(e.runCtx)}, nil
	}
	return nil, &spec.Failure{
		Kind: spec.KindTimeout, Offset: -1, Ending: spec.EventTimeout,
		Expected: fmt.Sprintf("the check to finish within %v", limit),
		Actual:   "it was still waiting on the server when its watchdog fired",
		Detail:   "the server stopped answering; its connections were closed by the watchdog",
		Err:      err,
	}
}

// classify maps a check's error to a status: nil passes, *spec.Skipped
// skips, *spec.Failure fails a MUST check and warns on a SHOULD one
// (fails under Strict), anything else is an error.
func (e *engine) classify(c spec.Check, err error) outcome {
	var f *spec.Failure
	var sk *spec.Skipped
	switch {
	case err == nil:
		return outcome{status: StatusPass}
	case errors.As(err, &sk):
		return outcome{status: StatusSkip, err: sk}
	case errors.As(err, &f):
		if unjudged(c, f) {
			return outcome{status: StatusUnjudged, err: f}
		}
		if c.Level == spec.Should && !e.o.Strict {
			return outcome{status: StatusWarn, err: f}
		}
		return outcome{status: StatusFail, err: f}
	}
	return outcome{status: StatusError, err: err}
}

// aggregate folds the runs of one check into its Result. A check that
// failed in some runs but not all is flaky: it keeps the status of its
// failure (fail, or warn for SHOULD) and the failure's Detail starts with
// "flaky: failed k of N runs".
func aggregate(c spec.Check, outs []outcome) Result {
	res := Result{Check: c, Runs: len(outs)}
	var firstFail, firstErr *outcome
	for k := range outs {
		o := &outs[k]
		res.Duration += o.dur
		if res.ServerDied == "" {
			res.ServerDied = o.died
		}
		switch o.status {
		case StatusFail, StatusWarn, StatusUnjudged:
			res.Failures++
			if firstFail == nil {
				firstFail = o
			}
		case StatusError:
			res.Failures++
			if firstErr == nil {
				firstErr = o
			}
		}
	}
	switch {
	case len(outs) == 0:
		res.Status = StatusError
		res.Err = errors.New("the check did not run")
	case outs[0].status == StatusSkip:
		res.Status, res.Err = StatusSkip, outs[0].err
		res.Failures = 0
	case firstFail != nil:
		res.Status, res.Err, res.Timeline = firstFail.status, firstFail.err, firstFail.timeline
	case firstErr != nil:
		res.Status, res.Err, res.Timeline = StatusError, firstErr.err, firstErr.timeline
	default:
		res.Status = StatusPass
	}
	if res.Flaky() {
		note := fmt.Sprintf("flaky: failed %d of %d runs", res.Failures, res.Runs)
		if f := res.Failure(); f != nil {
			g := *f
			if g.Detail != "" {
				note += "; " + g.Detail
			}
			g.Detail = note
			res.Err = &g
		} else if res.Err != nil {
			res.Err = fmt.Errorf("%s: %w", note, res.Err)
		}
	}
	return res
}

// diedDuring folds into out a server death that happened while the run
// was in flight: the run fails even if its own observation passed, and
// keeps its own failure if it had one.
func diedDuring(out outcome, d process.Death) outcome {
	out.died = d.How
	if out.status == StatusPass || out.status == StatusError {
		out.status = StatusFail
		out.err = &spec.Failure{Kind: spec.KindServerDied, Offset: -1, Ending: spec.EventExit,
			Expected: "the server to keep running", Actual: "it " + d.String()}
	}
	return out
}

// progress calls Options.Progress, serialised.
func (e *engine) progress(ev ProgressEvent) {
	if e.o.Progress == nil {
		return
	}
	e.progMu.Lock()
	defer e.progMu.Unlock()
	e.o.Progress(ev)
}

// panicError is a recovered panic in a check.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string {
	return fmt.Sprintf("the check panicked: %v (at %s)", p.value, panicSite(p.stack))
}

// panicSite picks the first stack frame outside the runtime and this
// file's recover: the line that panicked.
func panicSite(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for k := 0; k+1 < len(lines); k++ {
		l := strings.TrimSpace(lines[k])
		if strings.HasPrefix(l, "panic(") && k+3 < len(lines) {
			return strings.TrimSpace(lines[k+3])
		}
	}
	return "unknown location"
}

func notRunError(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errors.New("not run: the run's deadline passed")
	}
	return errors.New("not run: the run was cancelled")
}

// preflight checks once that a HOST:PORT target serves: a TCP target
// accepts a connection, a UDP one answers a datagram or at least does not
// refuse it (ICMP port unreachable), since a lost datagram proves nothing.
// A failure becomes the Failure every check reports, so an unreachable
// target fails fast.
func preflight(ctx context.Context, network, addr string, timeout time.Duration) *spec.Failure {
	err := process.Ready(ctx, network, addr, timeout)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ECONNRESET):
		// The handshake completed and the server then reset the
		// connection, before the dial returned: the target is reachable,
		// and the checks will say what it does wrong.
		return nil
	case network == "udp" && !errors.Is(err, syscall.ECONNREFUSED):
		return nil
	}
	return &spec.Failure{
		Kind: spec.KindRefused, Offset: -1, Ending: spec.EventRefused,
		Expected: "a connection to " + addr,
		Actual:   process.NetErrText(err),
		Detail:   "the target could not be reached before any check ran",
		Err:      err,
	}
}

// startupFailure is what every check reports when an exec'd server never
// became ready.
func startupFailure(err error) *spec.Failure {
	f := &spec.Failure{Kind: spec.KindRefused, Offset: -1, Ending: spec.EventRefused,
		Expected: "the server to accept connections within its startup timeout", Actual: err.Error(),
		Detail: "the server failed to start; no check could run"}
	if process.StartupExited(err) {
		f.Kind, f.Ending = spec.KindServerDied, spec.EventExit
	}
	return f
}

// serverDownFailure is what a check reports when the exec'd server died
// earlier and was not restarted.
func serverDownFailure(err error) *spec.Failure {
	return &spec.Failure{Kind: spec.KindServerDied, Offset: -1, Ending: spec.EventExit,
		Expected: "a running server", Actual: err.Error(),
		Detail: "not run against a dead server; use --restart to restart it after a crash"}
}
