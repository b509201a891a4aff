package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/gallery"
	"github.com/echoconf/echoconf/spec"
)

// The environment of the fixture tests, which the specs below run in a
// child process (this test binary, re-executed).
const (
	envFixtureAddr   = "ECHOCONF_FIXTURE_ADDR"   // the server to check; unset: the fixtures skip
	envFixtureRun    = "ECHOCONF_FIXTURE_RUN"    // comma-separated WithRun globs
	envFixtureStrict = "ECHOCONF_FIXTURE_STRICT" // "1": WithStrict
	envFixtureChecks = "ECHOCONF_FIXTURE_CHECKS" // "synthetic": the synthetic catalogue
	envFixtureLog    = "ECHOCONF_FIXTURE_LOG"    // file where synthetic checks record that they ran
)

// TestFixtureTestServer is a fixture, not a test: the TestServer specs run
// it in a child process and read its go test -json events. Run directly it
// skips.
func TestFixtureTestServer(t *testing.T) {
	addr := os.Getenv(envFixtureAddr)
	if addr == "" {
		t.Skip("fixture for the TestServer specs; it runs only in their child process, with " + envFixtureAddr + " set")
	}
	conformance.TestServer(t, addr, fixtureOptions(t)...)
}

// fixtureOptions turns the fixture environment into options.
func fixtureOptions(t *testing.T) []conformance.Option {
	t.Helper()
	var opts []conformance.Option
	if run := os.Getenv(envFixtureRun); run != "" {
		opts = append(opts, conformance.WithRun(strings.Split(run, ",")...))
	}
	if os.Getenv(envFixtureStrict) == "1" {
		opts = append(opts, conformance.WithStrict())
	}
	if os.Getenv(envFixtureChecks) == "synthetic" {
		opts = append(opts, conformance.WithChecks(syntheticChecks(os.Getenv(envFixtureLog))...))
	}
	return opts
}

// syntheticChecks is a small catalogue with one check per outcome, so the
// adapters' mapping of outcomes is tested exactly and quickly. Each check
// that runs appends its ID to the file at logPath, when set. The exclusive
// check fails if another check is running when it starts or ends.
func syntheticChecks(logPath string) []spec.Check {
	var (
		running atomic.Int32
		mu      sync.Mutex
	)
	record := func(id string) {
		if logPath == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return
		}
		fmt.Fprintln(f, id)
		f.Close()
	}
	// roundTrip proves the check talks to the target: one tiny echo.
	roundTrip := func(ctx context.Context, env *spec.Env) error {
		conn, err := env.Dial(ctx)
		if err != nil {
			return &spec.Failure{Kind: spec.KindRefused, Offset: -1, Ending: spec.EventRefused, Err: err}
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(env.Scaled(2 * time.Second)))
		if _, err := conn.Write([]byte("ping")); err != nil {
			return &spec.Failure{Kind: spec.KindReset, Offset: -1, Err: err}
		}
		var b [4]byte
		if _, err := conn.Read(b[:]); err != nil {
			return &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Err: err}
		}
		return nil
	}
	check := func(id string, level spec.Level, exclusive bool, result func() error) spec.Check {
		return spec.Check{
			ID: id, Level: level, Schedule: scheduleOf(exclusive), Measures: spec.KindHygiene, Timeout: 5 * time.Second,
			Requirement: "The synthetic requirement " + id + " holds.",
			Run: func(ctx context.Context, env *spec.Env) error {
				record(id)
				if exclusive {
					if n := running.Load(); n != 0 {
						return &spec.Failure{Kind: spec.KindHygiene, Offset: -1, Detail: fmt.Sprintf("%d checks ran alongside an exclusive one", n)}
					}
				}
				running.Add(1)
				defer running.Add(-1)
				if err := roundTrip(ctx, env); err != nil {
					return err
				}
				return result()
			},
		}
	}
	wrong := func() error {
		return &spec.Failure{
			Kind: spec.KindWrongBytes, Diagnosis: spec.DiagAltered,
			Expected: "5 bytes", Actual: "5 bytes", Sent: 5, Received: 5,
			Offset: 1, WindowStart: 0, ExpectedWindow: []byte("hello"), ActualWindow: []byte("hallo"),
			Ending: spec.EventEOF,
		}
	}
	return []spec.Check{
		check("demo/pass", spec.Must, false, func() error { return nil }),
		check("demo/fail", spec.Must, false, wrong),
		check("demo/warn", spec.Should, false, func() error {
			return &spec.Failure{Kind: spec.KindHygiene, Offset: -1, Detail: "3 zombies"}
		}),
		check("demo/skip", spec.Must, false, func() error {
			return &spec.Skipped{Reason: "needs the server process (exec mode)"}
		}),
		check("other/exclusive", spec.Must, true, func() error { return nil }),
	}
}

// testEvent is one line of go test -json (cmd/test2json).
type testEvent struct {
	Action string
	Test   string
	Output string
}

// testRun is what a child go test process reported.
type testRun struct {
	// Final maps each test and subtest name to its last action: "pass",
	// "fail" or "skip".
	Final map[string]string
	// Output maps each test name to what it printed.
	Output map[string]string
	// Err is how the process ended (nil when it exited 0).
	Err error
}

// withAction returns the sorted names of the tests whose last action was
// action.
func (r testRun) withAction(action string) []string {
	var out []string
	for name, a := range r.Final {
		if a == action {
			out = append(out, name)
		}
	}
	return sortedStrings(out)
}

// sortedStrings returns a sorted copy of s.
func sortedStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// runChild re-executes this test binary under go tool test2json, with the
// -test.run pattern run and extra environment env, and parses its events.
// The child runs in its own process group, which is killed when the spec
// ends or after timeout.
func runChild(run string, timeout time.Duration, env ...string) testRun {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "test2json", "-t",
		os.Args[0], "-test.run="+run, "-test.v=test2json", "-test.count=1", "-test.timeout="+timeout.String())
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	Expect(ctx.Err()).NotTo(HaveOccurred(), "the child go test timed out; stderr:\n%s", stderr.String())
	r := testRun{Final: map[string]string{}, Output: map[string]string{}, Err: err}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev testEvent
		Expect(json.Unmarshal(sc.Bytes(), &ev)).To(Succeed(), "a go test -json line: %s", sc.Text())
		if ev.Test == "" {
			continue
		}
		switch ev.Action {
		case "pass", "fail", "skip":
			r.Final[ev.Test] = ev.Action
		case "output":
			r.Output[ev.Test] += ev.Output
		}
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	return r
}

// prefixed returns "prefix/id" for each id, and prefix itself first.
func prefixed(prefix string, ids ...string) []string {
	out := []string{prefix}
	for _, id := range ids {
		out = append(out, prefix+"/"+id)
	}
	return sortedStrings(out)
}

// expectNames compares two sets of test names with go-cmp.
func expectNames(got, want []string, what string) {
	GinkgoHelper()
	if diff := cmp.Diff(sortedStrings(want), sortedStrings(got), cmpopts.EquateEmpty()); diff != "" {
		Fail(fmt.Sprintf("%s differ (-want +got):\n%s", what, diff))
	}
}

var _ = Describe("TestServer", func() {
	const fixture = "TestFixtureTestServer"

	Context("with the synthetic catalogue", func() {
		var addr string
		BeforeEach(func() {
			srv := echotest.NewServer()
			DeferCleanup(srv.Close)
			addr = srv.Addr
		})

		It("reports each outcome in a subtest named by the check ID", func() {
			r := runChild("^"+fixture+"$", time.Minute, envFixtureAddr+"="+addr, envFixtureChecks+"=synthetic")
			Expect(r.Err).To(HaveOccurred(), "the fixture must fail: demo/fail fails")
			expectNames(r.withAction("fail"), []string{fixture, fixture + "/demo/fail"}, "failed tests")
			expectNames(r.withAction("pass"), []string{fixture + "/demo/pass", fixture + "/demo/warn", fixture + "/other/exclusive"}, "passed tests")
			expectNames(r.withAction("skip"), []string{fixture + "/demo/skip"}, "skipped tests")

			failure := r.Output[fixture+"/demo/fail"]
			Expect(failure).To(ContainSubstring("demo/fail (MUST) failed: The synthetic requirement demo/fail holds."))
			Expect(failure).To(ContainSubstring("wrong-bytes (altered) at offset 1"))
			Expect(failure).To(ContainSubstring("sent 5 bytes, received 5 bytes, ended by eof"))
			Expect(failure).To(ContainSubstring("|hallo|"))
			Expect(r.Output[fixture+"/demo/warn"]).To(ContainSubstring("warning: demo/warn (SHOULD)"))
			Expect(r.Output[fixture+"/demo/skip"]).To(ContainSubstring("needs the server process (exec mode)"))
		})

		It("fails SHOULD violations under WithStrict", func() {
			r := runChild("^"+fixture+"$", time.Minute, envFixtureAddr+"="+addr, envFixtureChecks+"=synthetic", envFixtureStrict+"=1")
			expectNames(r.withAction("fail"), prefixed(fixture, "demo/fail", "demo/warn"), "failed tests")
		})

		DescribeTable("go test -run selects categories and single checks, and only those run",
			func(run string, want []string) {
				log := GinkgoT().TempDir() + "/ran"
				r := runChild(run, time.Minute, envFixtureAddr+"="+addr, envFixtureChecks+"=synthetic", envFixtureLog+"="+log)
				var reported []string
				for name := range r.Final {
					if name != fixture {
						reported = append(reported, strings.TrimPrefix(name, fixture+"/"))
					}
				}
				expectNames(reported, want, "subtests")
				ran, err := os.ReadFile(log)
				if len(want) == 0 {
					Expect(errors.Is(err, os.ErrNotExist)).To(BeTrue(), "no check may run")
					return
				}
				Expect(err).NotTo(HaveOccurred())
				expectNames(strings.Fields(string(ran)), want, "checks that ran")
			},
			Entry("a category", "^"+fixture+"$/demo", []string{"demo/fail", "demo/pass", "demo/skip", "demo/warn"}),
			Entry("one check", "^"+fixture+"$/demo/fail", []string{"demo/fail"}),
			Entry("an anchored check", "^"+fixture+"$/^other$/^exclusive$", []string{"other/exclusive"}),
			Entry("an alternation", "^"+fixture+"$/(other|demo)/(pass|exclusive)", []string{"demo/pass", "other/exclusive"}),
			Entry("no match", "^"+fixture+"$/nothing", nil),
		)

		It("fails the test itself, once, on a bad pattern", func() {
			r := runChild("^"+fixture+"$", time.Minute, envFixtureAddr+"="+addr, envFixtureChecks+"=synthetic", envFixtureRun+"=nosuch/*")
			expectNames(r.withAction("fail"), []string{fixture}, "failed tests")
			Expect(r.Output[fixture]).To(ContainSubstring(`"nosuch/*" matches no check`))
		})
	})
})

// galleryServer builds the gallery server name from testdata/ and starts it
// by address for the current spec. It returns its address with what the
// manifest fixes about the whole catalogue there: the checks whose status
// it fixes and those of them that fail.
func galleryServer(name string) (addr string, run, fail []string) {
	GinkgoHelper()
	s, err := gallery.Serve(context.Background(), name, GinkgoT().TempDir(), catalogueIDs())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Stop)
	return s.Addr(), s.Run, s.Fail
}

// catalogueIDs lists the catalogue's IDs in order.
func catalogueIDs() []string {
	var out []string
	for _, c := range spec.All() {
		out = append(out, c.ID)
	}
	return out
}

var _ = Describe("TestServer against real servers", func() {
	const fixture = "TestFixtureTestServer"

	// The checks outside run are not selected, so they have no subtest;
	// of those selected, the process checks skip by address.
	DescribeTable("fails exactly the subtests of the violated checks",
		func(start func() (addr string, run, fail []string)) {
			addr, run, want := start()
			env := []string{envFixtureAddr + "=" + addr}
			selected := catalogueIDs()
			if run != nil {
				env = append(env, envFixtureRun+"="+strings.Join(run, ","))
				selected = run
			}
			r := runChild("^"+fixture+"$", 3*time.Minute, env...)
			if len(want) == 0 {
				Expect(r.Err).NotTo(HaveOccurred(), "%v", r.Output)
				expectNames(r.withAction("fail"), nil, "failed tests")
			} else {
				Expect(r.Err).To(HaveOccurred())
				expectNames(r.withAction("fail"), prefixed(fixture, want...), "failed tests")
			}
			var skipped []string
			for _, id := range selected {
				if slices.Contains(gallery.ProcessChecks(), id) {
					skipped = append(skipped, id)
				}
			}
			expectNames(r.withAction("skip"), prefixed(fixture, skipped...)[1:], "skipped tests")
			Expect(r.Final).To(HaveLen(1+len(selected)), "one subtest per selected check, and the test")
		},
		Entry("the reference server", func() (string, []string, []string) {
			srv := echotest.NewServer()
			DeferCleanup(srv.Close)
			return srv.Addr, nil, nil
		}),
		Entry("no-close.c: a thread that never closes its socket (no FIN)", func() (string, []string, []string) {
			return galleryServer("no-close")
		}),
		Entry("fixed-64k.c: a buffer that stops recycling after 64 KiB", func() (string, []string, []string) {
			return galleryServer("fixed-64k")
		}),
	)
})

var _ = Describe("TestTarget", func() {
	It("fails exactly the subtests of the checks $ECHOCONF_TARGET violates", func() {
		addr, run, fail := galleryServer("no-close")
		Expect(run).To(HaveLen(len(spec.All())-len(gallery.ProcessChecks())), "the manifest fixes every check of no-close")
		r := runChild("^TestTarget$", 3*time.Minute, envTarget+"="+addr)
		Expect(r.Err).To(HaveOccurred())
		expectNames(r.withAction("fail"), prefixed("TestTarget", fail...), "failed tests")
		Expect(r.Output["TestTarget/halfclose/no-data"]).To(ContainSubstring("halfclose/no-data (MUST) failed: "))
		Expect(r.Output["TestTarget/halfclose/no-data"]).To(ContainSubstring("no-eof"))
	})

	It("checks the reference server, and says so, without $ECHOCONF_TARGET", func() {
		r := runChild("^TestTarget$", 3*time.Minute, envTarget+"=")
		Expect(r.Err).NotTo(HaveOccurred())
		Expect(r.Final).To(HaveKeyWithValue("TestTarget", "pass"))
		Expect(r.Output["TestTarget"]).To(ContainSubstring("ECHOCONF_TARGET is not set: checking the reference server"))
	})

	It("fails on a malformed $ECHOCONF_TARGET", func() {
		r := runChild("^TestTarget$", time.Minute, envTarget+"=localhost")
		expectNames(r.withAction("fail"), []string{"TestTarget"}, "failed tests")
		Expect(r.Output["TestTarget"]).To(ContainSubstring("ECHOCONF_TARGET: invalid target"))
	})
})

var _ = Describe("CheckServer", func() {
	It("returns nil for the reference server", func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		Expect(conformance.CheckServer(srv.Addr, conformance.WithRun("basic", "halfclose"))).To(Succeed())
	})

	It("joins one *CheckError per failed check, with the ID, requirement and diagnosis", func() {
		addr, _, fail := galleryServer("no-close")
		err := conformance.CheckServer(addr, conformance.WithRun("halfclose"))
		Expect(err).To(HaveOccurred())
		var ids []string
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var ce *conformance.CheckError
			Expect(errors.As(e, &ce)).To(BeTrue(), "%v", e)
			var f *spec.Failure
			Expect(errors.As(e, &f)).To(BeTrue(), "the *spec.Failure is reachable")
			Expect(e.Error()).To(HavePrefix(ce.Result.Check.ID + " (MUST) failed: " + ce.Result.Check.Requirement))
			Expect(e.Error()).To(ContainSubstring(f.Error()))
			ids = append(ids, ce.Result.Check.ID)
		}
		var want []string
		for _, id := range fail {
			if strings.HasPrefix(id, "halfclose/") {
				want = append(want, id)
			}
		}
		Expect(want).To(HaveLen(3))
		expectNames(ids, want, "failed checks")
	})

	It("leaves warnings out unless strict", func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		checks := syntheticChecks("")
		err := conformance.CheckServer(srv.Addr, conformance.WithChecks(checks...))
		Expect(err).To(MatchError(HavePrefix("demo/fail (MUST) failed")))
		err = conformance.CheckServer(srv.Addr, conformance.WithChecks(checks...), conformance.WithStrict())
		Expect(err.(interface{ Unwrap() []error }).Unwrap()).To(HaveLen(2))
		Expect(err.Error()).To(ContainSubstring("demo/warn (SHOULD) failed"))
	})

	It("returns a plain error when the checks cannot run", func() {
		err := conformance.CheckServer("127.0.0.1:1", conformance.WithRun("[bad"))
		Expect(err).To(MatchError(ContainSubstring("echoconf: ")))
		var ce *conformance.CheckError
		Expect(errors.As(err, &ce)).To(BeFalse())
	})
})

// scheduleOf is spec.Alone for an exclusive synthetic check.
func scheduleOf(exclusive bool) spec.Schedule {
	if exclusive {
		return spec.Alone
	}
	return spec.Together
}
