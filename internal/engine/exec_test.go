package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// busyStartup is the startup timeout of the specs that expect a server to
// come up: CI runs these beside the grade suite's fork bombs, where starting
// a process can take seconds.
const busyStartup = 30 * time.Second

// runExec runs checks against a server the runner starts with command,
// with busyStartup unless x sets a startup timeout.
func runExec(x engine.ExecSpec, checks []spec.Check) *engine.Report {
	GinkgoHelper()
	if x.StartupTimeout == 0 {
		x.StartupTimeout = busyStartup
	}
	rep, err := engine.Run(context.Background(), engine.Target{Exec: &x}, engine.Options{Checks: checks})
	Expect(err).NotTo(HaveOccurred())
	Expect(rep.Server).NotTo(BeNil())
	expectGroupGone(rep.Server.PID)
	return rep
}

// expectGroupGone asserts that no process of the server's group is left.
func expectGroupGone(pgid int) {
	GinkgoHelper()
	if pgid <= 0 {
		return
	}
	Eventually(func() error { return syscall.Kill(-pgid, 0) }).
		WithTimeout(10*time.Second).WithPolling(10*time.Millisecond).
		Should(MatchError(syscall.ESRCH), "process group %d is still alive", pgid)
}

// exclusiveEchoes returns n echo checks that run one at a time, in order.
func exclusiveEchoes(n int) []spec.Check {
	var checks []spec.Check
	for i := 1; i <= n; i++ {
		c := echoCheck(fmt.Sprintf("basic/echo-%d", i))
		c.Schedule = spec.Alone
		checks = append(checks, c)
	}
	return checks
}

var processCheck = spec.Check{ID: "robustness/process", Requirement: "The process is observable.", Timeout: 10 * time.Second,
	Run: func(ctx context.Context, env *spec.Env) error {
		if env.Process == nil {
			return &spec.Skipped{Reason: "needs --exec"}
		}
		if gone, how := env.Process.Exited(); gone {
			return &spec.Failure{Kind: spec.KindServerDied, Offset: -1, Actual: how}
		}
		n, err := env.Process.OpenFDs()
		if err != nil {
			return err
		}
		z, err := env.Process.Zombies()
		if err != nil {
			return err
		}
		if n < 3 || z != 0 || env.Process.PID() <= 0 {
			return fmt.Errorf("fds %d, zombies %d, pid %d", n, z, env.Process.PID())
		}
		return nil
	}}

var _ = Describe("exec mode", func() {
	It("starts, checks and stops a correct server and its children", func(ctx SpecContext) {
		rep := runExec(engine.ExecSpec{Command: testServerBin + " -spawn -port {port}"},
			append(exclusiveEchoes(2), echoCheck("basic/parallel"), processCheck))
		for _, r := range rep.Results {
			Expect(r.Status).To(Equal(engine.StatusPass), "%s: %v", r.Check.ID, r.Err)
		}
		s := rep.Server
		Expect(s.PID).To(BeNumerically(">", 0))
		Expect(s.Command).To(MatchRegexp(`-port \d+$`))
		Expect(s.Output).To(ContainSubstring("testserver: listening on 127.0.0.1:"))
		Expect(s.Deaths).To(BeEmpty())
		Expect(s.Exit).To(BeEmpty())
		Expect(rep.Target).To(ContainSubstring("{port}"))
	}, SpecTimeout(60*time.Second))

	It("skips process checks against an address", func() {
		echo := startFake(echoHandler)
		rep := run(echo.Addr, engine.Options{Checks: []spec.Check{processCheck}})
		Expect(rep.Results[0].Status).To(Equal(engine.StatusSkip))
		Expect(rep.Server).To(BeNil())
	})

	It("fails every check when the server never listens, within the startup timeout", func(ctx SpecContext) {
		start := time.Now()
		rep := runExec(engine.ExecSpec{Command: "sh -c 'sleep 30' {port}", StartupTimeout: 300 * time.Millisecond},
			exclusiveEchoes(3))
		Expect(time.Since(start)).To(BeNumerically("<", 15*time.Second), "the server sleeps 30 s; a busy machine may take seconds")
		for _, r := range rep.Results {
			Expect(r.Status).To(Equal(engine.StatusFail))
			Expect(r.Failure().Kind).To(Equal(spec.KindRefused))
			Expect(r.Failure().Actual).To(ContainSubstring("no connection accepted on"))
		}
		Expect(rep.Verdict()).To(Equal(engine.VerdictFail))
	}, SpecTimeout(60*time.Second))

	It("reports a server that exits at once, without waiting for the startup timeout", func(ctx SpecContext) {
		start := time.Now()
		rep := runExec(engine.ExecSpec{Command: "sh -c 'echo cannot bind >&2; exit 3' {port}", StartupTimeout: 40 * time.Second},
			exclusiveEchoes(2))
		Expect(time.Since(start)).To(BeNumerically("<", 20*time.Second), "half the startup timeout: a busy machine may take seconds")
		for _, r := range rep.Results {
			Expect(r.Failure().Kind).To(Equal(spec.KindServerDied))
			Expect(r.Failure().Actual).To(ContainSubstring("exit status 3"))
		}
		Expect(rep.Server.Output).To(ContainSubstring("cannot bind"))
		Expect(rep.Server.Exit).To(Equal("exit status 3"))
	}, SpecTimeout(60*time.Second))

	Context("a server that crashes mid-run", func() {
		// The readiness probe is connection 1, so -die-after 3 kills the
		// server during the second check of each incarnation.
		It("records the death and fails the remaining checks fast without --restart", func(ctx SpecContext) {
			rep := runExec(engine.ExecSpec{Command: testServerBin + " -die-after 3 -port {port}"}, exclusiveEchoes(4))
			st := statuses(rep)
			Expect(st).To(Equal(map[string]engine.Status{"basic/echo-1": "pass", "basic/echo-2": "fail",
				"basic/echo-3": "fail", "basic/echo-4": "fail"}))
			Expect(rep.Results[1].ServerDied).To(Equal("signal: killed"))
			Expect(rep.Results[2].Failure().Kind).To(Equal(spec.KindServerDied))
			Expect(rep.Results[2].Failure().Actual).To(Equal("the server died during basic/echo-2: signal: killed"))
			Expect(rep.Server.Deaths).To(Equal([]string{"died during basic/echo-2: signal: killed"}))
			Expect(rep.Server.Restarts).To(BeZero())
		}, SpecTimeout(60*time.Second))

		It("restarts it on a new port with --restart", func(ctx SpecContext) {
			rep := runExec(engine.ExecSpec{Command: testServerBin + " -die-after 3 -port {port}", Restart: true},
				append(exclusiveEchoes(5), serverAlive()))
			st := statuses(rep)
			Expect(st).To(Equal(map[string]engine.Status{"basic/echo-1": "pass", "basic/echo-2": "fail",
				"basic/echo-3": "pass", "basic/echo-4": "fail", "basic/echo-5": "pass", "robustness/server-alive": "fail"}))
			Expect(rep.Server.Restarts).To(Equal(2))
			Expect(rep.Server.Deaths).To(Equal([]string{"died during basic/echo-2: signal: killed", "died during basic/echo-4: signal: killed"}))
			Expect(rep.Results[5].Failure().Kind).To(Equal(spec.KindServerDied))
		}, SpecTimeout(60*time.Second))
	})

	It("bounds the output of a server that floods stderr", func(ctx SpecContext) {
		rep := runExec(engine.ExecSpec{Command: testServerBin + " -flood-stderr -port {port}", OutputLimit: 4096},
			exclusiveEchoes(2))
		Expect(statuses(rep)).To(HaveEach(engine.StatusPass))
		Expect(len(rep.Server.Output)).To(BeNumerically("<=", 4096))
		Expect(rep.Server.OutputTruncated).To(BeTrue())
	}, SpecTimeout(60*time.Second))

	It("applies the fd limit before the server runs", func(ctx SpecContext) {
		rep := runExec(engine.ExecSpec{Command: "sh -c 'ulimit -n; exec " + testServerBin + " -port \"$0\"' {port}", FDLimit: 64},
			exclusiveEchoes(1))
		Expect(rep.Results[0].Status).To(Equal(engine.StatusPass))
		Expect(rep.Server.Output).To(HavePrefix("64\n"))
	}, SpecTimeout(60*time.Second))
})

var _ = Describe("StartProcess", func() {
	It("starts a server by its command line for checking by address, then stops its whole group", func(ctx SpecContext) {
		p, err := engine.StartProcess(ctx, engine.ExecSpec{Command: testServerBin + " -spawn -port {port}", StartupTimeout: busyStartup})
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Addr()).To(MatchRegexp(`^127\.0\.0\.1:\d+$`))
		rep := run(p.Addr(), engine.Options{Checks: []spec.Check{echoCheck("basic/echo"), processCheck}})
		Expect(statuses(rep)).To(Equal(map[string]engine.Status{"basic/echo": "pass", "robustness/process": "skip"}))
		info := p.Close()
		Expect(info.Output).To(ContainSubstring("testserver: listening on " + p.Addr()))
		Expect(info.Exit).To(BeEmpty(), "it was stopped, not ended on its own")
		Expect(p.Close()).To(BeIdenticalTo(info), "Close is idempotent")
		expectGroupGone(p.PID())
	}, SpecTimeout(60*time.Second))

	DescribeTable("fails, leaving nothing behind, when the server does not come up",
		func(ctx SpecContext, command string, startup time.Duration, msg string) {
			p, err := engine.StartProcess(ctx, engine.ExecSpec{Command: command, StartupTimeout: startup})
			Expect(err).To(MatchError(ContainSubstring(msg)))
			Expect(p).To(BeNil())
		},
		Entry("it never listens", "sh -c 'sleep 30' {port}", 300*time.Millisecond, "within 300ms"),
		// The exit must be seen before the startup timeout, which on a busy
		// machine can be longer than a short one.
		Entry("it exits at once", "sh -c 'exit 3' {port}", busyStartup, "exit status 3"),
		Entry("no {port} in the command", "./server 7", busyStartup, "{port}"),
	)
})

// resultView is what a progress event and the final report must agree on.
type resultView struct {
	ID, Status, Message, ServerDied string
	Runs, Failures                  int
}

func viewOf(r engine.Result) resultView {
	v := resultView{ID: r.Check.ID, Status: string(r.Status), ServerDied: r.ServerDied, Runs: r.Runs, Failures: r.Failures}
	if r.Err != nil {
		v.Message = r.Err.Error()
	}
	return v
}

var _ = Describe("progress with --restart (issue 10)", func() {
	// killer kills the server and waits until it is gone; its own
	// observation passes, but the server died while it was in flight.
	killer := spec.Check{ID: "robustness/killer", Requirement: "kills", Timeout: 5 * time.Second, Schedule: spec.Alone,
		Run: func(ctx context.Context, env *spec.Env) error {
			if err := syscall.Kill(env.Process.PID(), syscall.SIGKILL); err != nil {
				return err
			}
			for range 500 {
				if gone, _ := env.Process.Exited(); gone {
					return nil
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(10 * time.Millisecond):
				}
			}
			return errors.New("the server did not die")
		}}
	alive := serverAlive()

	It("streams every check's final result: what the report says, never PASS then FAIL", func(ctx SpecContext) {
		for _, repeat := range []int{1, 2} {
			var mu sync.Mutex
			streamed := make(map[string]resultView)
			checks := append(append(exclusiveEchoes(1), killer), append(exclusiveEchoes(3)[2:], alive)...)
			x := engine.ExecSpec{Command: testServerBin + " -port {port}", Restart: true}
			rep, err := engine.Run(ctx, engine.Target{Exec: &x}, engine.Options{Checks: checks, Repeat: repeat,
				Progress: func(ev engine.ProgressEvent) {
					if ev.Kind == engine.ProgressEnd {
						mu.Lock()
						streamed[ev.Check.ID] = viewOf(*ev.Result)
						mu.Unlock()
					}
				}})
			Expect(err).NotTo(HaveOccurred())
			final := make(map[string]resultView)
			for _, r := range rep.Results {
				final[r.Check.ID] = viewOf(r)
			}
			Expect(cmp.Diff(final, streamed)).To(BeEmpty(), "progress events (+) against the final report (-), repeat %d", repeat)
			Expect(final["robustness/killer"].Status).To(Equal("fail"))
			Expect(final["robustness/killer"].ServerDied).To(Equal("signal: killed"))
			Expect(final["basic/echo-3"].Status).To(Equal("pass"), "the restarted server serves the next check")
			Expect(final["robustness/server-alive"].Status).To(Equal("fail"))
			Expect(final["robustness/server-alive"].Message).To(ContainSubstring("died during robustness/killer"))
		}
	}, SpecTimeout(60*time.Second))
})

// serverAlive is the catalogue's robustness/server-alive check.
func serverAlive() spec.Check {
	c, ok := spec.Lookup("robustness/server-alive")
	Expect(ok).To(BeTrue())
	return c
}
