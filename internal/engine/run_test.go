package engine_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

func run(addr string, o engine.Options) *engine.Report {
	GinkgoHelper()
	rep, err := engine.Run(context.Background(), engine.Target{Addr: addr}, o)
	Expect(err).NotTo(HaveOccurred())
	Expect(rep.Results).To(HaveLen(len(o.Checks)))
	return rep
}

func statuses(rep *engine.Report) map[string]engine.Status {
	m := map[string]engine.Status{}
	for _, r := range rep.Results {
		m[r.Check.ID] = r.Status
	}
	return m
}

var _ = Describe("Run", func() {
	var echo *fakeServer
	BeforeEach(func() { echo = startFake(echoHandler) })

	Describe("selection", func() {
		checks := []spec.Check{echoCheck("basic/a"), echoCheck("basic/b"), echoCheck("halfclose/a"), echoCheck("large/x")}

		DescribeTable("selects checks with globs and categories",
			func(runs, skips []string, want map[string]engine.Status) {
				rep := run(echo.Addr, engine.Options{Checks: checks, Run: runs, Skip: skips})
				Expect(statuses(rep)).To(Equal(want))
				for _, r := range rep.Results {
					Expect(r.NotSelected).To(Equal(r.Status == engine.StatusSkip))
				}
			},
			Entry("everything by default", nil, nil, map[string]engine.Status{
				"basic/a": "pass", "basic/b": "pass", "halfclose/a": "pass", "large/x": "pass"}),
			Entry("a bare category", []string{"halfclose"}, nil, map[string]engine.Status{
				"basic/a": "skip", "basic/b": "skip", "halfclose/a": "pass", "large/x": "skip"}),
			Entry("an ID glob", []string{"*/a"}, nil, map[string]engine.Status{
				"basic/a": "pass", "basic/b": "skip", "halfclose/a": "pass", "large/x": "skip"}),
			Entry("run and skip", []string{"basic/*", "large"}, []string{"basic/b"}, map[string]engine.Status{
				"basic/a": "pass", "basic/b": "skip", "halfclose/a": "skip", "large/x": "pass"}),
		)

		DescribeTable("rejects bad patterns",
			func(runs, skips []string, msg string) {
				_, err := engine.Run(context.Background(), engine.Target{Addr: echo.Addr},
					engine.Options{Checks: checks, Run: runs, Skip: skips})
				Expect(err).To(MatchError(ContainSubstring(msg)))
			},
			Entry("malformed", []string{"basic/["}, nil, "invalid pattern"),
			Entry("malformed skip", nil, []string{"["}, "invalid pattern"),
			Entry("matching nothing", []string{"halfclos"}, nil, "matches no check"),
		)
	})

	Describe("status mapping", func() {
		failure := &spec.Failure{Kind: spec.KindWrongBytes, Offset: 3}
		leak := &spec.Failure{Kind: spec.KindHygiene, Offset: -1}
		checks := []spec.Check{
			echoCheck("basic/pass"),
			errCheck("basic/skip", spec.Must, &spec.Skipped{Reason: "not here"}),
			errCheck("basic/must-fail", spec.Must, failure),
			errCheck("basic/should-fail", spec.Should, leak),
			errCheck("basic/wrapped-fail", spec.Must, errors.Join(errors.New("ctx"), failure)),
			errCheck("basic/error", spec.Must, errPlain),
			{ID: "basic/panic", Requirement: "r", Timeout: time.Second,
				Run: func(context.Context, *spec.Env) error { panic("boom") }},
			errCheck("basic/should-unjudged", spec.Should, failure),
		}

		It("maps errors to statuses, SHOULD failures to warnings", func() {
			rep := run(echo.Addr, engine.Options{Checks: checks})
			Expect(statuses(rep)).To(Equal(map[string]engine.Status{
				"basic/pass": "pass", "basic/skip": "skip", "basic/must-fail": "fail",
				"basic/should-fail": "warn", "basic/wrapped-fail": "fail", "basic/error": "error", "basic/panic": "error",
				"basic/should-unjudged": "unjudged",
			}))
			Expect(rep.Results[2].Failure()).To(BeIdenticalTo(failure))
			Expect(rep.Results[4].Failure()).To(BeIdenticalTo(failure))
			Expect(rep.Results[6].Err).To(MatchError(And(ContainSubstring("panicked: boom"), ContainSubstring("run_test.go"))))
			Expect(rep.Verdict()).To(Equal(engine.VerdictFail))
			Expect(rep.Strict).To(BeFalse())
		})

		It("fails SHOULD failures under Strict", func() {
			rep := run(echo.Addr, engine.Options{Checks: checks, Strict: true, Run: []string{"basic/should-fail"}})
			Expect(statuses(rep)["basic/should-fail"]).To(Equal(engine.StatusFail))
			Expect(rep.Strict).To(BeTrue())
		})

		It("passes a run with only warnings", func() {
			rep := run(echo.Addr, engine.Options{Checks: checks, Run: []string{"basic/pass", "basic/should-fail", "basic/skip"}})
			Expect(rep.Verdict()).To(Equal(engine.VerdictPass))
		})

		It("cannot judge a SHOULD check whose failure is not a measurement of its requirement", func() {
			rep := run(echo.Addr, engine.Options{Checks: checks, Run: []string{"basic/pass", "basic/should-unjudged"}})
			Expect(statuses(rep)["basic/should-unjudged"]).To(Equal(engine.StatusUnjudged))
			Expect(rep.Results[7].Failure()).To(BeIdenticalTo(failure))
			Expect(rep.Verdict()).To(Equal(engine.VerdictPass), "not judged is not a failure of a run that is not strict")
			strict := run(echo.Addr, engine.Options{Checks: checks, Strict: true, Run: []string{"basic/should-unjudged"}})
			Expect(statuses(strict)["basic/should-unjudged"]).To(Equal(engine.StatusUnjudged))
			Expect(strict.Verdict()).To(Equal(engine.VerdictFail), "under --strict it fails the verdict, as a warning would")
		})
	})

	Describe("repeat", func() {
		It("counts runs and failures and flags flaky checks as failures with a note", func() {
			var n atomic.Int32
			flaky := spec.Check{ID: "basic/flaky", Requirement: "r", Timeout: time.Second,
				Run: func(context.Context, *spec.Env) error {
					if n.Add(1)%2 == 0 {
						return &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Detail: "slow"}
					}
					return nil
				}}
			rep := run(echo.Addr, engine.Options{Checks: []spec.Check{flaky, echoCheck("basic/steady")}, Repeat: 4})
			r := rep.Results[0]
			Expect(r.Runs).To(Equal(4))
			Expect(r.Failures).To(Equal(2))
			Expect(r.Flaky()).To(BeTrue())
			Expect(r.Status).To(Equal(engine.StatusFail))
			Expect(r.Failure().Detail).To(Equal("flaky: failed 2 of 4 runs; slow"))
			Expect(rep.Results[1].Runs).To(Equal(4))
			Expect(rep.Results[1].Status).To(Equal(engine.StatusPass))
		})
	})

	Describe("watchdog", func() {
		It("closes the connections of a check that ignores ctx and reports a timeout", func(ctx SpecContext) {
			silent := startFake(silentHandler)
			blocking := spec.Check{ID: "basic/blocks", Requirement: "r", Timeout: 200 * time.Millisecond,
				Run: func(_ context.Context, env *spec.Env) error {
					dctx, cancel := context.WithTimeout(context.Background(), time.Second)
					defer cancel()
					c, err := env.Dial(dctx)
					if err != nil {
						return err
					}
					_, err = c.Read(make([]byte, 1)) // no deadline: only the watchdog ends it
					return err
				}}
			start := time.Now()
			rep := run(silent.Addr, engine.Options{Checks: []spec.Check{blocking}})
			Expect(time.Since(start)).To(BeNumerically("<", 15*time.Second), "without the watchdog the read never ends")
			Expect(rep.Results[0].Status).To(Equal(engine.StatusFail))
			Expect(rep.Results[0].Failure().Kind).To(Equal(spec.KindTimeout))
		}, SpecTimeout(30*time.Second))

		It("abandons a check that does not return after its watchdog, as an error", func(ctx SpecContext) {
			release := make(chan struct{})
			DeferCleanup(func() { close(release) })
			stuck := spec.Check{ID: "basic/stuck", Requirement: "r", Timeout: 100 * time.Millisecond,
				Run: func(context.Context, *spec.Env) error { <-release; return nil }}
			rep := run(echo.Addr, engine.Options{Checks: []spec.Check{stuck, echoCheck("basic/next")}, TimeoutScale: 0.5})
			Expect(rep.Results[0].Status).To(Equal(engine.StatusError))
			Expect(rep.Results[0].Err).To(MatchError(ContainSubstring("abandoned")))
			Expect(rep.Results[1].Status).To(Equal(engine.StatusPass))
		}, SpecTimeout(10*time.Second))

		It("reports checks not run when the whole-run deadline passes", func(ctx SpecContext) {
			slow := spec.Check{ID: "basic/slow", Requirement: "r", Timeout: 40 * time.Second, Schedule: spec.Alone,
				Run: func(ctx context.Context, _ *spec.Env) error { <-ctx.Done(); return ctx.Err() }}
			after := echoCheck("concurrency/after")
			after.Schedule = spec.Alone
			rep := run(echo.Addr, engine.Options{Checks: []spec.Check{slow, after},
				Deadline: 200 * time.Millisecond, Parallel: 1})
			Expect(rep.Results[0].Status).To(Equal(engine.StatusError))
			Expect(rep.Results[1].Status).To(Equal(engine.StatusError))
			Expect(rep.Results[1].Err).To(MatchError(ContainSubstring("deadline")))
			Expect(rep.Duration).To(BeNumerically("<", 20*time.Second), "the slow check alone would take 40 s")
		}, SpecTimeout(60*time.Second))
	})

	Describe("scheduling", func() {
		It("reports in catalogue order, runs exclusive checks alone and server-alive last", func() {
			var (
				mu          sync.Mutex
				active      int
				exclusiveOn bool
				violations  []string
				startOrder  []string
			)
			body := func(id string, exclusive bool, work time.Duration) func(context.Context, *spec.Env) error {
				return func(ctx context.Context, env *spec.Env) error {
					mu.Lock()
					startOrder = append(startOrder, id)
					if exclusiveOn || (exclusive && active > 0) {
						violations = append(violations, id)
					}
					active++
					exclusiveOn = exclusiveOn || exclusive
					mu.Unlock()
					t := time.NewTimer(work) // simulated work, so checks overlap
					select {
					case <-t.C:
					case <-ctx.Done():
					}
					mu.Lock()
					active--
					if exclusive {
						exclusiveOn = false
					}
					mu.Unlock()
					return echoOnce(ctx, env, []byte(id))
				}
			}
			var checks []spec.Check
			add := func(id string, schedule spec.Schedule, work time.Duration) {
				alone := schedule == spec.Alone || schedule == spec.Last
				checks = append(checks, spec.Check{ID: id, Requirement: "r", Timeout: 5 * time.Second,
					Schedule: schedule, Run: body(id, alone, work)})
			}
			add("basic/slow", spec.Together, 150*time.Millisecond)
			add("basic/fast1", spec.Together, 0)
			add("concurrency/x1", spec.Alone, 30*time.Millisecond)
			add("basic/fast2", spec.Together, 10*time.Millisecond)
			add("robustness/server-alive", spec.Last, 0)
			add("robustness/r1", spec.Disruptive, 20*time.Millisecond)
			add("robustness/x2", spec.Alone, 30*time.Millisecond)
			add("partial/fast3", spec.Together, 10*time.Millisecond)
			rep := run(echo.Addr, engine.Options{Checks: checks, Parallel: 4})
			Expect(ids(resultChecks(rep))).To(Equal(ids(checks)))
			Expect(violations).To(BeEmpty())
			Expect(startOrder[len(startOrder)-1]).To(Equal("robustness/server-alive"))
			Expect(startOrder[:4]).To(ConsistOf("basic/slow", "basic/fast1", "basic/fast2", "partial/fast3"))
			for _, r := range rep.Results {
				Expect(r.Status).To(Equal(engine.StatusPass), r.Check.ID)
			}
		})
	})

	Describe("faulty targets", func() {
		It("fails every check quickly when the target refuses connections", func() {
			checks := []spec.Check{echoCheck("basic/a"), echoCheck("basic/b"), echoCheck("robustness/c")}
			start := time.Now()
			rep := run(refusedAddr(), engine.Options{Checks: checks})
			Expect(time.Since(start)).To(BeNumerically("<", 4*time.Second), "waiting for a check's 5 s timeout would take longer; a busy machine may take seconds")
			for _, r := range rep.Results {
				Expect(r.Status).To(Equal(engine.StatusFail))
				Expect(r.Failure().Kind).To(Equal(spec.KindRefused))
			}
			Expect(rep.Verdict()).To(Equal(engine.VerdictFail))
		})

		It("times out against a server that accepts and never answers", func(ctx SpecContext) {
			silent := startFake(silentHandler)
			rep := run(silent.Addr, engine.Options{Checks: []spec.Check{echoCheck("basic/a"), echoCheck("basic/b")},
				TimeoutScale: 0.3})
			for _, r := range rep.Results {
				Expect(r.Status).To(Equal(engine.StatusFail))
				Expect(r.Failure().Kind).To(Equal(spec.KindTimeout))
			}
		}, SpecTimeout(10*time.Second))

		It("stays bounded against a server that floods forever", func(ctx SpecContext) {
			flood := startFake(floodHandler)
			drain := spec.Check{ID: "basic/drain", Requirement: "r", Timeout: 300 * time.Millisecond,
				Run: func(ctx context.Context, env *spec.Env) error {
					c, err := env.Dial(ctx)
					if err != nil {
						return err
					}
					defer c.Close()
					buf := make([]byte, 32<<10)
					for i := 0; i < 1<<20; i++ { // bounded: the watchdog ends it first
						if _, err := c.Read(buf); err != nil {
							return err
						}
					}
					return nil
				}}
			rep := run(flood.Addr, engine.Options{Checks: []spec.Check{drain, echoCheck("basic/wrong")}})
			Expect(rep.Results[0].Status).To(Equal(engine.StatusFail))
			Expect(rep.Results[0].Failure().Kind).To(Equal(spec.KindTimeout))
			Expect(rep.Results[1].Failure().Kind).To(Equal(spec.KindWrongBytes))
		}, SpecTimeout(10*time.Second))
	})

	Describe("options", func() {
		DescribeTable("rejects what it cannot run",
			func(t engine.Target, o engine.Options, msg string) {
				if o.Checks == nil {
					o.Checks = []spec.Check{echoCheck("basic/a")}
				}
				_, err := engine.Run(context.Background(), t, o)
				Expect(err).To(MatchError(ContainSubstring(msg)))
			},
			Entry("no target", engine.Target{}, engine.Options{}, "no target"),
			Entry("both targets", engine.Target{Addr: "127.0.0.1:7", Exec: &engine.ExecSpec{Command: "x {port}"}}, engine.Options{}, "both"),
			Entry("no port", engine.Target{Addr: "127.0.0.1"}, engine.Options{}, "HOST:PORT"),
			Entry("bad port", engine.Target{Addr: "127.0.0.1:http"}, engine.Options{}, "port"),
			Entry("no {port}", engine.Target{Exec: &engine.ExecSpec{Command: "./server 7"}}, engine.Options{}, "{port}"),
			Entry("unterminated quote", engine.Target{Exec: &engine.ExecSpec{Command: "./server '{port}"}}, engine.Options{}, "quote"),
			Entry("negative repeat", engine.Target{Addr: "127.0.0.1:7"}, engine.Options{Repeat: -1}, "repeat"),
			Entry("negative scale", engine.Target{Addr: "127.0.0.1:7"}, engine.Options{TimeoutScale: -1}, "scale"),
			Entry("duplicate IDs", engine.Target{Addr: "127.0.0.1:7"}, engine.Options{Checks: []spec.Check{echoCheck("basic/a"), echoCheck("basic/a")}}, "twice"),
		)

		It("serialises progress events, one start and one end per selected check", func() {
			var events []engine.ProgressEvent
			checks := []spec.Check{echoCheck("basic/a"), echoCheck("basic/b"), echoCheck("basic/c")}
			run(echo.Addr, engine.Options{Checks: checks, Skip: []string{"basic/b"},
				Progress: func(ev engine.ProgressEvent) { events = append(events, ev) }})
			Expect(events).To(HaveLen(4))
			for _, ev := range events {
				Expect(ev.Total).To(Equal(2))
				if ev.Kind == engine.ProgressEnd {
					Expect(ev.Result.Status).To(Equal(engine.StatusPass))
				}
			}
		})
	})
})

func resultChecks(rep *engine.Report) []spec.Check {
	out := make([]spec.Check, len(rep.Results))
	for i, r := range rep.Results {
		out[i] = r.Check
	}
	return out
}

var _ = io.EOF
