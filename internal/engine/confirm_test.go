package engine_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// contention builds checks that fail whenever another check runs beside
// them, and counts every run of every check.
type contention struct {
	mu      sync.Mutex
	active  int
	runs    map[string]int
	overlap []string // checks that a re-run found running beside another
	barrier chan struct{}
	waiting int
	group   int // how many contended checks the first round holds together
}

func newContention(group int) *contention {
	return &contention{runs: map[string]int{}, barrier: make(chan struct{}), group: group}
}

// check returns a check with the given ID. A contended check's first run
// waits until the whole group has started (so the group overlaps by
// construction, not by timing) and fails; a later run passes only when it
// runs alone. An uncontended check echoes once; one that always fails
// fails every run.
func (k *contention) check(id string, contended, alwaysFail bool) spec.Check {
	return spec.Check{ID: id, Requirement: "It runs alone.", Timeout: 5 * time.Second,
		Run: func(ctx context.Context, env *spec.Env) error {
			k.mu.Lock()
			k.runs[id]++
			first := k.runs[id] == 1
			k.active++
			beside := k.active > 1
			if contended && first {
				if k.waiting++; k.waiting == k.group {
					close(k.barrier)
				}
			}
			k.mu.Unlock()
			defer func() {
				k.mu.Lock()
				k.active--
				k.mu.Unlock()
			}()
			switch {
			case contended && first:
				select {
				case <-k.barrier:
				case <-ctx.Done():
				}
				return &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Detail: "ran beside other checks"}
			case alwaysFail:
				return &spec.Failure{Kind: spec.KindWrongBytes, Offset: 0, Detail: "always fails"}
			case contended && beside:
				k.mu.Lock()
				k.overlap = append(k.overlap, id)
				k.mu.Unlock()
				return &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Detail: "re-run beside other checks"}
			case contended:
				return nil
			}
			return echoOnce(ctx, env, []byte(id))
		}}
}

var _ = Describe("ConfirmAlone", func() {
	var echo *fakeServer
	BeforeEach(func() { echo = startFake(echoHandler) })

	// catalogue has a passing check, three that fail only beside others,
	// one that always fails, and one of each kind in the robustness group,
	// which is confirmed on its own.
	catalogue := func(k *contention) []spec.Check {
		return []spec.Check{
			k.check("basic/passes", false, false),
			k.check("basic/c1", true, false),
			k.check("basic/c2", true, false),
			k.check("partial/c3", true, false),
			k.check("large/broken", false, true),
			disruptive(k.check("robustness/passes", false, false)),
			disruptive(k.check("robustness/broken", false, true)),
		}
	}

	DescribeTable("reports the alone run of each check that failed beside others",
		func(confirm bool, want map[string]engine.Status, wantRuns map[string]int) {
			k := newContention(3)
			rep := run(echo.Addr, engine.Options{Checks: catalogue(k), Parallel: 6, ConfirmAlone: confirm})
			Expect(statuses(rep)).To(Equal(want))
			Expect(k.runs).To(Equal(wantRuns))
			Expect(k.overlap).To(BeEmpty(), "re-runs ran beside other checks")
		},
		Entry("with ConfirmAlone: only the real failures remain", true,
			map[string]engine.Status{"basic/passes": "pass", "basic/c1": "pass", "basic/c2": "pass", "partial/c3": "pass",
				"large/broken": "fail", "robustness/passes": "pass", "robustness/broken": "fail"},
			map[string]int{"basic/passes": 1, "basic/c1": 2, "basic/c2": 2, "partial/c3": 2,
				"large/broken": 2, "robustness/passes": 1, "robustness/broken": 2}),
		Entry("without: every failure stands, nothing runs twice", false,
			map[string]engine.Status{"basic/passes": "pass", "basic/c1": "fail", "basic/c2": "fail", "partial/c3": "fail",
				"large/broken": "fail", "robustness/passes": "pass", "robustness/broken": "fail"},
			map[string]int{"basic/passes": 1, "basic/c1": 1, "basic/c2": 1, "partial/c3": 1,
				"large/broken": 1, "robustness/passes": 1, "robustness/broken": 1}),
	)

	It("does not re-run a group in which nothing passed", func() {
		k := newContention(2)
		checks := []spec.Check{k.check("basic/c1", true, false), k.check("basic/c2", true, false), k.check("large/broken", false, true)}
		rep := run(echo.Addr, engine.Options{Checks: checks, Parallel: 6, ConfirmAlone: true})
		Expect(statuses(rep)).To(Equal(map[string]engine.Status{"basic/c1": "fail", "basic/c2": "fail", "large/broken": "fail"}))
		Expect(k.runs).To(Equal(map[string]int{"basic/c1": 1, "basic/c2": 1, "large/broken": 1}))
	})

	It("re-runs nothing when the checks already ran one at a time", func() {
		k := newContention(1)
		checks := []spec.Check{k.check("basic/passes", false, false), k.check("large/broken", false, true)}
		rep := run(echo.Addr, engine.Options{Checks: checks, Parallel: 1, ConfirmAlone: true})
		Expect(statuses(rep)).To(Equal(map[string]engine.Status{"basic/passes": "pass", "large/broken": "fail"}))
		Expect(k.runs).To(Equal(map[string]int{"basic/passes": 1, "large/broken": 1}), fmt.Sprint(k.runs))
	})
})

// disruptive schedules c after the Together and Alone checks.
func disruptive(c spec.Check) spec.Check {
	c.Schedule = spec.Disruptive
	return c
}
