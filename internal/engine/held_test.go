package engine_test

import (
	"context"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// ledger builds checks that return a fixed outcome, and records every run:
// how many times each check ran, and which runs had another check in
// flight beside them.
type ledger struct {
	mu       sync.Mutex
	inflight map[string]*bool // each run in flight: whether another overlapped it
	runs     map[string]int
	beside   map[string]int
	// met is closed once group exclusive checks are in flight at once,
	// so that checks run together overlap by construction.
	met     chan struct{}
	waiting int
	group   int
}

func newLedger(group int) *ledger {
	return &ledger{inflight: map[string]*bool{}, runs: map[string]int{}, beside: map[string]int{},
		met: make(chan struct{}), group: group}
}

// check returns a check that returns f (nil: it passes). An exclusive one
// waits, up to a second, for the whole group of exclusive checks to be in
// flight, so that checks run at once are seen to overlap.
func (l *ledger) check(id string, sched spec.Schedule, f *spec.Failure) spec.Check {
	return spec.Check{ID: id, Requirement: "It holds.", Timeout: 5 * time.Second, Schedule: sched,
		Run: func(ctx context.Context, _ *spec.Env) error {
			l.mu.Lock()
			l.runs[id]++
			overlapped := len(l.inflight) > 0
			for _, o := range l.inflight {
				*o = true
			}
			l.inflight[id] = &overlapped
			if sched == spec.Alone {
				if l.waiting++; l.waiting == l.group {
					close(l.met)
				}
			}
			l.mu.Unlock()
			if sched == spec.Alone {
				t := time.NewTimer(time.Second)
				select {
				case <-l.met:
				case <-t.C:
				case <-ctx.Done():
				}
				t.Stop()
			}
			l.mu.Lock()
			if overlapped {
				l.beside[id]++
			}
			delete(l.inflight, id)
			if sched == spec.Alone {
				l.waiting--
			}
			l.mu.Unlock()
			if f == nil {
				return nil
			}
			g := *f
			return &g
		}}
}

// held is a timeout on bytes the server read and kept; silence is one on
// bytes the server never read.
var (
	held    = &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Ending: spec.EventTimeout, Sent: 76, Held: 76}
	silence = &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Ending: spec.EventTimeout, Sent: 76}
)

// needsProcess marks c as a check that observes the server's process.
func needsProcess(c spec.Check) spec.Check {
	c.Needs = spec.NeedsProcess
	return c
}

var _ = Describe("a failure on bytes the server read and kept (spec.Failure.Held)", func() {
	var echo *fakeServer
	BeforeEach(func() { echo = startFake(echoHandler) })

	DescribeTable("is not re-run alone, while any other failure beside others is",
		func(sched spec.Schedule) {
			l := newLedger(0)
			checks := []spec.Check{
				l.check("basic/passes", sched, nil),
				l.check("basic/held", sched, held),
				l.check("basic/silence", sched, silence),
			}
			rep := run(echo.Addr, engine.Options{Checks: checks, Parallel: 6, ConfirmAlone: true})
			Expect(statuses(rep)).To(Equal(map[string]engine.Status{"basic/passes": "pass", "basic/held": "fail", "basic/silence": "fail"}))
			Expect(l.runs).To(Equal(map[string]int{"basic/passes": 1, "basic/held": 1, "basic/silence": 2}))
			Expect(rep.Results[1].Failure().Held).To(Equal(int64(76)))
		},
		Entry("a first check", spec.Together),
		Entry("a disruptive check", spec.Disruptive),
	)

	DescribeTable("lets the exclusive checks run together first, and re-runs alone all but their own such failures",
		func(first *spec.Failure, together bool) {
			l := newLedger(4)
			checks := []spec.Check{
				l.check("basic/passes", spec.Together, nil),
				l.check("basic/first", spec.Together, first),
				l.check("concurrency/held", spec.Alone, held),
				l.check("concurrency/silence", spec.Alone, silence),
				l.check("concurrency/passes", spec.Alone, nil),
				needsProcess(l.check("robustness/counts", spec.Alone, nil)),
			}
			// In exec mode, so that the check that needs the process runs.
			x := engine.ExecSpec{Command: testServerBin + " -port {port}"}
			rep, err := engine.Run(context.Background(), engine.Target{Exec: &x}, engine.Options{Checks: checks, Parallel: 6, ConfirmAlone: true})
			Expect(err).NotTo(HaveOccurred())
			expectGroupGone(rep.Server.PID)
			// The reported results are the same either way.
			Expect(statuses(rep)).To(Equal(map[string]engine.Status{"basic/passes": "pass", "basic/first": "fail",
				"concurrency/held": "fail", "concurrency/silence": "fail", "concurrency/passes": "pass", "robustness/counts": "pass"}))
			exclusive := []string{"concurrency/held", "concurrency/silence", "concurrency/passes", "robustness/counts"}
			if !together {
				for _, id := range exclusive {
					Expect(l.runs).To(HaveKeyWithValue(id, 1))
					Expect(l.beside).NotTo(HaveKey(id))
				}
				return
			}
			// Each ran beside the others once, in the first round; what
			// may owe something to that ran again, alone: another failure,
			// and the pass of a check that observes the process.
			for _, id := range exclusive {
				Expect(l.beside).To(HaveKeyWithValue(id, 1))
			}
			Expect(l.runs).To(HaveKeyWithValue("concurrency/held", 1))
			Expect(l.runs).To(HaveKeyWithValue("concurrency/passes", 1))
			Expect(l.runs).To(HaveKeyWithValue("concurrency/silence", 2))
			Expect(l.runs).To(HaveKeyWithValue("robustness/counts", 2))
		},
		Entry("a first check failed on bytes the server kept", held, true),
		Entry("the first checks' failures were all silences", silence, false),
	)

	It("changes nothing without ConfirmAlone", func() {
		l := newLedger(2)
		checks := []spec.Check{
			l.check("basic/passes", spec.Together, nil),
			l.check("basic/held", spec.Together, held),
			l.check("concurrency/held", spec.Alone, held),
			l.check("concurrency/passes", spec.Alone, nil),
		}
		rep := run(echo.Addr, engine.Options{Checks: checks, Parallel: 6})
		Expect(statuses(rep)).To(HaveKeyWithValue("concurrency/passes", engine.StatusPass))
		Expect(l.runs).To(Equal(map[string]int{"basic/passes": 1, "basic/held": 1, "concurrency/held": 1, "concurrency/passes": 1}))
		Expect(l.beside).NotTo(HaveKey(HavePrefix("concurrency/")))
	})
})
