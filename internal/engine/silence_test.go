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

// stalls counts the runs of checks that fail with a timeout after
// receiving the given number of bytes.
type stalls struct {
	mu   sync.Mutex
	runs map[string]int
}

func (s *stalls) check(id string, received int64) spec.Check {
	return spec.Check{ID: id, Requirement: "It gets its echo.", Timeout: 5 * time.Second,
		Run: func(ctx context.Context, env *spec.Env) error {
			s.mu.Lock()
			s.runs[id]++
			s.mu.Unlock()
			return &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Received: received, Ending: spec.EventTimeout}
		}}
}

// meeting builds exclusive checks that pass only when they run at the same
// time as each other: each waits, up to a second, for all to have started.
type meeting struct {
	mu      sync.Mutex
	arrived int
	all     chan struct{}
	size    int
}

func (m *meeting) check(id string) spec.Check {
	return spec.Check{ID: id, Requirement: "It meets the others.", Timeout: 5 * time.Second, Schedule: spec.Alone,
		Run: func(ctx context.Context, env *spec.Env) error {
			m.mu.Lock()
			if m.arrived++; m.arrived == m.size {
				close(m.all)
			}
			m.mu.Unlock()
			t := time.NewTimer(time.Second)
			defer t.Stop()
			select {
			case <-m.all:
				return nil
			case <-t.C:
				return &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Detail: "ran alone"}
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
}

var _ = Describe("the cost of a faulty server", func() {
	var echo *fakeServer
	BeforeEach(func() { echo = startFake(echoHandler) })

	// probe is the Probe check: silent beside others, and then,
	// run alone, silent again or answered.
	probe := func(answersAlone bool) spec.Check {
		runs := 0
		var mu sync.Mutex
		return spec.Check{ID: "halfclose/small-pending", Requirement: "It gets its echo and a FIN.", Timeout: 5 * time.Second, Probe: true,
			Run: func(context.Context, *spec.Env) error {
				mu.Lock()
				runs++
				again := runs > 1
				mu.Unlock()
				if again && answersAlone {
					return nil
				}
				return &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Ending: spec.EventTimeout}
			}}
	}

	DescribeTable("runs the exclusive checks together only against a server that answers no one, even alone",
		func(first, probe spec.Check, together bool) {
			s := &stalls{runs: map[string]int{}}
			m := &meeting{all: make(chan struct{}), size: 2}
			checks := []spec.Check{first, s.check("basic/b", 0), s.check("partial/c", 0), probe, m.check("concurrency/x"), m.check("concurrency/y")}
			rep := run(echo.Addr, engine.Options{Checks: checks, Parallel: 6, ConfirmAlone: true})
			want := engine.StatusFail
			if together {
				want = engine.StatusPass
			}
			// Run one after the other, the first waits for the second in
			// vain; run together, they meet.
			Expect(statuses(rep)["concurrency/x"]).To(Equal(want))
			Expect(statuses(rep)[probe.ID]).To(Equal(engine.StatusFail), "the probe's run alone is not reported")
		},
		Entry("nothing came back to any check, nor to the probe alone", (&stalls{runs: map[string]int{}}).check("basic/a", 0), probe(false), true),
		Entry("nothing came back, not even a FIN", spec.Check{ID: "halfclose/a", Requirement: "It gets a FIN.", Timeout: 5 * time.Second,
			Run: func(context.Context, *spec.Env) error {
				return &spec.Failure{Kind: spec.KindNoEOF, Offset: -1, Ending: spec.EventTimeout}
			}}, probe(false), true),
		Entry("the probe is answered alone: the server serves one client at a time", (&stalls{runs: map[string]int{}}).check("basic/a", 0), probe(true), false),
		Entry("one check passed", echoCheck("basic/a"), probe(false), false),
		Entry("one check got part of its echo", (&stalls{runs: map[string]int{}}).check("basic/a", 1), probe(false), false),
		Entry("the probe is not selected", (&stalls{runs: map[string]int{}}).check("basic/a", 0), (&stalls{runs: map[string]int{}}).check("halfclose/other", 0), false),
	)

	// together is a non-exclusive meeting: its checks pass only if all
	// of them run at the same time.
	together := func(m *meeting, id string) spec.Check {
		c := m.check(id)
		c.Schedule = spec.Together
		return c
	}

	DescribeTable("starts the rest of a group at once only when the first Parallel checks to end found the server silent",
		func(first spec.Check, widened bool) {
			s := &stalls{runs: map[string]int{}}
			m := &meeting{all: make(chan struct{}), size: 4}
			checks := []spec.Check{first, s.check("basic/b", 0),
				together(m, "partial/w"), together(m, "partial/x"), together(m, "partial/y"), together(m, "partial/z")}
			rep := run(echo.Addr, engine.Options{Checks: checks, Parallel: 2})
			want := engine.StatusFail
			if widened {
				want = engine.StatusPass
			}
			// Two at a time, the first two wait for the others in vain
			// (the last two then find four arrivals); all at once, the
			// four meet.
			for _, id := range []string{"partial/w", "partial/x"} {
				Expect(statuses(rep)[id]).To(Equal(want), id)
			}
		},
		Entry("nothing came back to the first two", (&stalls{runs: map[string]int{}}).check("basic/a", 0), true),
		Entry("the first passed", echoCheck("basic/a"), false),
		Entry("the first got part of its echo", (&stalls{runs: map[string]int{}}).check("basic/a", 1), false),
	)
})
