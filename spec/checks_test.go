package spec_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/spec"
)

// faultScale shrinks the time limits for faulty servers, whose faults do
// not depend on timing; correct servers always run at scale 1.
const faultScale = 0.25

// runCatalogue runs checks the way the engine does: the non-exclusive ones
// at the same time, then the exclusive ones alone. It returns each check's
// error and how long it took.
func runCatalogue(env *spec.Env, checks []spec.Check) (map[string]error, map[string]time.Duration) {
	errs := map[string]error{}
	took := map[string]time.Duration{}
	var mu sync.Mutex
	run := func(c spec.Check) {
		defer GinkgoRecover()
		ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
		defer cancel()
		start := time.Now()
		err := c.Run(ctx, env)
		mu.Lock()
		errs[c.ID], took[c.ID] = err, time.Since(start)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, c := range checks {
		if c.Schedule != spec.Alone {
			wg.Go(func() { run(c) })
		}
	}
	wg.Wait()
	for _, c := range checks {
		if c.Schedule == spec.Alone {
			run(c)
		}
	}
	return errs, took
}

// failureOf returns err's *spec.Failure, or fails the spec.
func failureOf(err error) *spec.Failure {
	GinkgoHelper()
	var f *spec.Failure
	Expect(errors.As(err, &f)).To(BeTrue(), "expected a *spec.Failure, got %v", err)
	return f
}

var _ = Describe("against correct servers", func() {
	expectAllPass := func(env *spec.Env, processChecks bool) {
		errs, _ := runCatalogue(env, spec.All())
		for _, c := range spec.All() {
			err := errs[c.ID]
			var skipped *spec.Skipped
			if !processChecks && errors.As(err, &skipped) {
				continue
			}
			if f := (*spec.Failure)(nil); errors.As(err, &f) {
				Fail(c.ID + ": " + f.Report())
			}
			Expect(err).NotTo(HaveOccurred(), c.ID)
		}
	}

	It("passes the reference server (impl/echotest) on every check", func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		expectAllPass(dialEnv(srv.Addr, 1), false)
	})

	It("passes a correct server with odd write sizes and pauses, process checks included", func() {
		s := startFake(echoChunky)
		env := s.env(1)
		env.Process = healthyProcess(s)
		expectAllPass(env, true)
	})

	It("skips the process checks, with a reason, when there is no process", func() {
		s := startFake(echoCorrect)
		for _, id := range []string{"robustness/server-alive", "robustness/no-zombies", "robustness/fd-stable"} {
			c, _ := spec.Lookup(id)
			var skipped *spec.Skipped
			Expect(errors.As(c.Run(context.Background(), s.env(1)), &skipped)).To(BeTrue(), id)
			Expect(skipped.Reason).To(ContainSubstring("--exec"))
		}
	})
})

// fault is one faulty server and what the check meant for it must say.
type fault struct {
	handler func(*fakeServer, net.Conn)
	opts    []func(*fakeServer)
	process func(*fakeServer) *fakeProcess
	check   string
	kind    spec.Kind
	diag    spec.Diagnosis
	detail  string // a substring of Detail
	conn    string // a substring of Conn
}

var _ = Describe("against faulty servers", func() {
	DescribeTable("the check meant for the fault fails it, saying what went wrong",
		func(ft fault) {
			s := startFake(ft.handler, ft.opts...)
			env := s.env(faultScale)
			if ft.process != nil {
				env.Process = ft.process(s)
			}
			c, ok := spec.Lookup(ft.check)
			Expect(ok).To(BeTrue())
			ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
			defer cancel()
			f := failureOf(c.Run(ctx, env))
			Expect(f.Kind).To(Equal(ft.kind), f.Report())
			Expect(f.Diagnosis).To(Equal(ft.diag), f.Report())
			Expect(f.Detail).To(ContainSubstring(ft.detail), f.Report())
			Expect(f.Conn).To(ContainSubstring(ft.conn), f.Report())
			Expect(ctx.Err()).NotTo(HaveOccurred(), "the check ran into its watchdog instead of failing by itself")
		},
		Entry("upper-casing", fault{handler: echoUpper, check: "basic/small-message",
			kind: spec.KindWrongBytes, diag: spec.DiagAltered, detail: "other case"}),
		Entry("appending a newline", fault{handler: echoAppendLF, check: "basic/small-message",
			kind: spec.KindExtraBytes, diag: spec.DiagExtra, detail: "line ending"}),
		Entry("appending a newline, to unterminated lines", fault{handler: echoAppendLF, check: "basic/line-endings",
			kind: spec.KindExtraBytes, diag: spec.DiagExtra, detail: "line ending", conn: "payload"}),
		Entry("appending a newline, between messages", fault{handler: echoAppendLF, check: "basic/many-messages",
			kind: spec.KindExtraBytes, diag: spec.DiagExtra, detail: "line ending", conn: "round 2"}),
		Entry("dropping the last byte of each read, in a stream", fault{handler: echoDropLast, check: "large/1mib",
			kind: spec.KindWrongBytes, diag: spec.DiagDropped, detail: "1 bytes are missing"}),
		Entry("dropping the last byte of each read, in a message", fault{handler: echoDropLast, check: "basic/small-message",
			kind: spec.KindTimeout, diag: spec.DiagTruncated, detail: "echoed 75 of 76 bytes"}),
		Entry("duplicating each read", fault{handler: echoDuplicated, check: "large/1mib",
			kind: spec.KindWrongBytes, diag: spec.DiagDuplicated, detail: "came back"}),
		Entry("reordering reads", fault{handler: echoReordered, check: "large/1mib",
			kind: spec.KindWrongBytes, diag: spec.DiagReordered, detail: "reorders"}),
		Entry("stopping at NUL", fault{handler: echoCString, check: "basic/all-byte-values",
			kind: spec.KindTimeout, diag: spec.DiagTruncated, detail: "first NUL byte (offset 255)"}),
		Entry("echoing only the first read", fault{handler: echoFirstRead, check: "partial/paused-writes",
			kind: spec.KindTimeout, diag: spec.DiagTruncated, detail: "echoed 100 of"}),
		Entry("echoing only the first read, made late as on a busy machine", fault{handler: echoFirstReadLate, check: "partial/paused-writes",
			kind: spec.KindTimeout, diag: spec.DiagTruncated, detail: "echoed 100 of"}),
		Entry("echoing only the first read, 1-byte writes", fault{handler: echoFirstRead, check: "partial/single-byte-writes",
			kind: spec.KindTimeout, diag: spec.DiagTruncated, detail: "then nothing"}),
		Entry("closing after one message", fault{handler: echoCloseAfterOne, check: "basic/many-messages",
			kind: spec.KindEarlyEOF, diag: spec.DiagTruncated, detail: "after 1 messages", conn: "round 2"}),
		Entry("waiting for a newline", fault{handler: echoLines, check: "partial/prompt-echo",
			kind: spec.KindTimeout, detail: "until the client sent a newline"}),
		Entry("waiting for EOF", fault{handler: echoAtEOF, check: "partial/prompt-echo",
			kind: spec.KindTimeout, detail: "until the client closed its side"}),
		Entry("truncating after 1000 bytes", fault{handler: echoTruncated, check: "large/1mib",
			kind: spec.KindTimeout, diag: spec.DiagTruncated, detail: "echoed 1000 of 1048576 bytes"}),
		Entry("never closing after FIN", fault{handler: echoNoFIN, check: "halfclose/no-data",
			kind: spec.KindNoEOF, detail: "never closed after the client's FIN"}),
		Entry("never closing after FIN, data pending", fault{handler: echoNoFIN, check: "halfclose/small-pending",
			kind: spec.KindNoEOF, detail: "does the parent close"}),
		Entry("closing with RST", fault{handler: echoRSTAtEOF, check: "halfclose/small-pending",
			kind: spec.KindReset, detail: "reset instead of a FIN"}),
		Entry("closing before echoing pending data", fault{handler: echoHoldLast, check: "halfclose/small-pending",
			kind: spec.KindEarlyEOF, diag: spec.DiagTruncated, detail: "after the client's FIN the server closed having echoed 0 of 300"}),
		Entry("closing before echoing pending data, large", fault{handler: echoHoldLast, check: "halfclose/large-pending",
			kind: spec.KindEarlyEOF, diag: spec.DiagTruncated, detail: "must first write back everything"}),
		Entry("serving one client at a time", fault{handler: echoCorrect, opts: []func(*fakeServer){iterative}, check: "concurrency/idle-client",
			kind: spec.KindTimeout, detail: "one client at a time", conn: "client B"}),
		Entry("serving one client at a time, many clients", fault{handler: echoCorrect, opts: []func(*fakeServer){iterative}, check: "concurrency/many-clients",
			kind: spec.KindTimeout, detail: "does not serve all its clients at once", conn: "of 100, round 1"}),
		Entry("head-of-line blocking", fault{handler: echoHeadOfLine, check: "concurrency/non-reading-client",
			kind: spec.KindTimeout, detail: "head-of-line", conn: "client B"}),
		Entry("cross-talk between clients", fault{handler: echoCrossed, check: "concurrency/many-clients",
			kind: spec.KindWrongBytes, diag: spec.DiagOtherClient, detail: "mixes up its clients", conn: "client 1 of 100, round 1"}),
		Entry("a greeting banner", fault{handler: echoGreeting, check: "basic/no-greeting",
			kind: spec.KindExtraBytes, diag: spec.DiagExtra, detail: `"220 Welcome`}),
		Entry("silence", fault{handler: silent, check: "basic/small-message",
			kind: spec.KindTimeout, detail: "nothing came back"}),
		Entry("a flood", fault{handler: flood, check: "basic/no-greeting",
			kind: spec.KindExtraBytes, diag: spec.DiagExtra, detail: "flood!"}),
		Entry("a flood, during a large echo", fault{handler: flood, check: "large/64mib",
			kind: spec.KindWrongBytes, diag: spec.DiagAltered}),
		Entry("dying when a client resets", fault{handler: dieOnReset, process: healthyProcess, check: "robustness/reset-mid-echo",
			kind: spec.KindServerDied, detail: "SIGPIPE"}),
		Entry("dying when a client resets, no process to ask", fault{handler: dieOnReset, check: "robustness/close-without-reading",
			kind: spec.KindRefused, detail: "stopped answering after 5 clients sent a lot and closed without reading: new connections are refused"}),
		Entry("running out of file descriptors", fault{handler: echoCorrect, opts: []func(*fakeServer){maxAccepts(250)}, check: "robustness/sequential-connections",
			kind: spec.KindTimeout, detail: "leaks one per connection", conn: "connection 251 of 1500"}),
		Entry("three silent connections among the sequential ones", fault{handler: stallOn(100, 201, 302),
			check: "robustness/sequential-connections", kind: spec.KindTimeout, conn: "connection 300 of 1500"}),
		Entry("leaving zombies", fault{handler: echoCorrect, process: leakyProcess, check: "robustness/no-zombies",
			kind: spec.KindHygiene, detail: "waitpid"}),
		Entry("leaking descriptors", fault{handler: echoCorrect, process: leakyProcess, check: "robustness/fd-stable",
			kind: spec.KindHygiene, detail: "leaks a file descriptor per connection"}),
		Entry("leaking one descriptor more than fd-stable allows", fault{handler: echoCorrect,
			process: leakingProcess(spec.FDSlack + 1), check: "robustness/fd-stable",
			kind: spec.KindHygiene, detail: fmt.Sprintf("%d more files stayed open, where at most %d may: the server leaks file descriptors;",
				spec.FDSlack+1, spec.FDSlack)}),
		// One fault, one diagnosis, in every check that sees it.
		Entry("upper-casing, in odd-sized writes", fault{handler: echoToupper, check: "partial/odd-sizes",
			kind: spec.KindWrongBytes, diag: spec.DiagAltered, detail: "other case"}),
		Entry("upper-casing, 1-byte writes", fault{handler: echoToupper, check: "partial/single-byte-writes",
			kind: spec.KindWrongBytes, diag: spec.DiagAltered, detail: "other case"}),
		Entry("upper-casing, in a stream", fault{handler: echoToupper, check: "large/1mib",
			kind: spec.KindWrongBytes, diag: spec.DiagAltered, detail: "other case"}),
		Entry("reading lines, all byte values", fault{handler: echoLines, check: "basic/all-byte-values",
			kind: spec.KindTimeout, diag: spec.DiagTruncated, detail: "the server reads lines"}),
		Entry("reading lines, in a stream", fault{handler: echoLines, check: "large/1mib",
			kind: spec.KindTimeout, diag: spec.DiagTruncated, detail: "the server reads lines"}),
		Entry("reading lines, many messages", fault{handler: echoLines, check: "basic/many-messages",
			kind: spec.KindTimeout, diag: spec.DiagTruncated, detail: "the server reads lines", conn: "round 1"}),
		Entry("SIGPIPE after a half-close and a reset, no process to ask", fault{handler: dieOnEPIPE, check: "robustness/reset-pending-write",
			kind: spec.KindRefused, detail: "stopped answering after 3 clients half-closed, then reset"}),
		Entry("SIGPIPE after a half-close and a reset", fault{handler: dieOnEPIPE, process: healthyProcess, check: "robustness/reset-pending-write",
			kind: spec.KindServerDied, detail: "killed by SIGPIPE"}),
		Entry("correct but slow", fault{handler: echoSlow, check: "large/throughput",
			kind: spec.KindSlow, detail: "correct but slow: it echoed at"}),
	)

	DescribeTable("prints a cause only where it explains the failure",
		func(handler func(*fakeServer, net.Conn), check string, cause bool) {
			s := startFake(handler)
			c, _ := spec.Lookup(check)
			f := failureOf(c.Run(context.Background(), s.env(faultScale)))
			if cause {
				Expect(f.Report()).To(ContainSubstring("cause: "))
			} else {
				Expect(f.Report()).NotTo(ContainSubstring("cause: "), f.Report())
			}
		},
		Entry("wrong bytes", echoToupper, "large/1mib", false),
		Entry("wrong bytes in a message", echoToupper, "basic/small-message", false),
		Entry("extra bytes", echoAppendLF, "basic/small-message", false),
		Entry("an early EOF", echoCloseAfterOne, "partial/paused-writes", false),
		Entry("a reset", echoRSTAtEOF, "halfclose/small-pending", true),
	)

	DescribeTable("robustness/fd-stable passes a server whose open files stay within its slack",
		func(process func(*fakeServer) *fakeProcess) {
			s := startFake(echoCorrect)
			env := s.env(faultScale)
			env.Process = process(s)
			c, _ := spec.Lookup("robustness/fd-stable")
			Expect(c.Run(context.Background(), env)).To(Succeed())
		},
		Entry("no descriptor kept", healthyProcess),
		Entry("as many kept as the slack", leakingProcess(spec.FDSlack)),
	)

	It("passes a correct but slow server on the large MUST checks, within their budgets", func() {
		s := startFake(echoSlow)
		for _, id := range []string{"large/16mib", "large/slow-reader", "halfclose/large-pending"} {
			c, _ := spec.Lookup(id)
			ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
			err := c.Run(ctx, s.env(faultScale))
			cancel()
			Expect(err).NotTo(HaveOccurred(), id)
		}
	})

	It("still fails a server that stops echoing, however much it echoed first", func() {
		s := startFake(echoTruncated)
		c, _ := spec.Lookup("large/16mib")
		f := failureOf(c.Run(context.Background(), s.env(faultScale)))
		Expect(f.Kind).To(Equal(spec.KindTimeout), f.Report())
		Expect(f.Detail).To(ContainSubstring("then nothing for"), f.Report())
	})

	It("reports a dead server in robustness/server-alive, with how it died", func() {
		s := startFake(echoCorrect)
		env := s.env(faultScale)
		env.Process = healthyProcess(s)
		c, _ := spec.Lookup("robustness/server-alive")
		Expect(c.Run(context.Background(), env)).To(Succeed())
		s.die("signal: segmentation fault")
		f := failureOf(c.Run(context.Background(), env))
		Expect(f.Kind).To(Equal(spec.KindServerDied))
		Expect(f.Ending).To(Equal(spec.EventExit))
		Expect(f.Detail).To(ContainSubstring("segmentation fault"))
	})

	It("reports a refused connection as refused", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		c, _ := spec.Lookup("basic/small-message")
		f := failureOf(c.Run(context.Background(), dialEnv(addr, faultScale)))
		Expect(f.Kind).To(Equal(spec.KindRefused))
		Expect(f.Ending).To(Equal(spec.EventRefused))
	})

	DescribeTable("every check fails fast, without its watchdog, against a server that never answers or floods",
		func(handler func(*fakeServer, net.Conn)) {
			s := startFake(handler)
			start := time.Now()
			errs, took := runCatalogue(s.env(faultScale), spec.All())
			for _, c := range spec.All() {
				var skipped *spec.Skipped
				if errors.As(errs[c.ID], &skipped) {
					continue
				}
				f := failureOf(errs[c.ID])
				Expect(f.Kind).NotTo(BeEmpty())
				Expect(errors.Is(f, context.DeadlineExceeded)).To(BeFalse(), "%s ran into its watchdog: %s", c.ID, f.Report())
				Expect(took[c.ID]).To(BeNumerically("<", c.Timeout/2), c.ID)
			}
			Expect(time.Since(start)).To(BeNumerically("<", 30*time.Second))
		},
		Entry("silent", silent),
		Entry("flood", flood),
	)
})

var _ = Describe("robustness/sequential-connections on a busy machine", func() {
	It("tries a silent connection again, twice at most, and passes a server that answers the retry", func() {
		s := startFake(stallOn(100, 201))
		c, ok := spec.Lookup("robustness/sequential-connections")
		Expect(ok).To(BeTrue())
		ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
		defer cancel()
		Expect(c.Run(ctx, s.env(faultScale))).To(Succeed())
	})
})
