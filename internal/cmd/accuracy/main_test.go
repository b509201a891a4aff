package main

import (
	"bytes"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/gallery"
	"github.com/echoconf/echoconf/spec"
)

// fakeRun builds a ServerRun for p whose report gives each of ids a pass,
// except the statuses in over.
func fakeRun(p gallery.Program, ids []string, elapsed time.Duration, over map[string]engine.Status) gallery.ServerRun {
	r := &engine.Report{}
	for _, id := range ids {
		st := engine.StatusPass
		var err error
		if s, ok := over[id]; ok {
			st = s
			err = &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Detail: "made up"}
		}
		r.Results = append(r.Results, engine.Result{Check: spec.Check{ID: id}, Status: st, Err: err})
	}
	return gallery.ServerRun{Program: p, Report: r, Elapsed: elapsed}
}

var _ = Describe("the accuracy table", func() {
	ids := []string{"basic/small-message", "large/1mib", "robustness/no-zombies"}
	good := gallery.Program{Name: "good", Kind: gallery.KindCorrect, Expect: gallery.Expect{Conformant: true}}
	bad := gallery.Program{Name: "bad", Kind: gallery.KindFaulty, Fault: "x", Expect: gallery.Expect{Fail: []string{"large/1mib"}}}
	zomb := gallery.Program{Name: "zomb", Kind: gallery.KindFaulty, Fault: "z", Expect: gallery.Expect{Warn: []string{"robustness/no-zombies"}}}

	It("prints every server and a summary, and reports that all expectations were met", func() {
		var out bytes.Buffer
		met := printTable(&out, "server", []gallery.ServerRun{
			fakeRun(good, ids, time.Second, nil),
			fakeRun(bad, ids, 3*time.Second, map[string]engine.Status{"large/1mib": engine.StatusFail}),
			fakeRun(zomb, ids, 2*time.Second, map[string]engine.Status{"robustness/no-zombies": engine.StatusWarn}),
		}, false)
		Expect(met).To(BeTrue())
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		Expect(lines[0]).To(MatchRegexp(`^SERVER\s+KIND\s+EXPECTED\s+OBTAINED\s+FAILED CHECKS\s+TIME$`))
		Expect(lines[1]).To(MatchRegexp(`^good\s+correct\s+pass\s+pass\s+-\s+1s$`))
		Expect(lines[2]).To(MatchRegexp(`^bad\s+faulty\s+fail, 1 named\s+fail\s+large/1mib\s+3s$`))
		Expect(lines[3]).To(MatchRegexp(`^zomb\s+faulty\s+pass, 1 named\s+pass\s+robustness/no-zombies\(warn\)\s+2s$`))
		Expect(lines[len(lines)-1]).To(Equal("faulty servers caught: 2/2, correct servers passed: 1/1, slowest: bad (3s)"))
	})

	It("marks a mismatch, explains it below the table and counts the server as missed", func() {
		var out bytes.Buffer
		met := printTable(&out, "server", []gallery.ServerRun{
			fakeRun(good, ids, time.Second, map[string]engine.Status{"basic/small-message": engine.StatusFail}),
			fakeRun(bad, ids, time.Second, nil),
		}, false)
		Expect(met).To(BeFalse())
		Expect(out.String()).To(ContainSubstring("fail MISMATCH"))
		Expect(out.String()).To(ContainSubstring("basic/small-message: fail, expected pass (timeout"))
		Expect(out.String()).To(ContainSubstring("large/1mib: pass, expected fail"))
		Expect(out.String()).To(HaveSuffix("faulty servers caught: 0/1, correct servers passed: 0/1, slowest: good (1s)\n"))
	})

	It("treats processes left running and runs that could not start as misses", func() {
		var out bytes.Buffer
		leftover := fakeRun(good, ids, time.Second, nil)
		leftover.Leftovers = []int{4242}
		met := printTable(&out, "server", []gallery.ServerRun{leftover, {Program: bad, Err: errors.New("no gcc")}}, false)
		Expect(met).To(BeFalse())
		Expect(out.String()).To(ContainSubstring("processes left running: [4242]"))
		Expect(out.String()).To(ContainSubstring("no gcc"))
	})

	It("summarises repeats, telling wrong verdicts from other differences", func() {
		var out bytes.Buffer
		ok := fakeRun(good, ids, time.Second, nil)
		wrong := fakeRun(bad, ids, time.Second, nil) // passes, but must fail
		warnMissing := fakeRun(zomb, ids, time.Second, nil)
		caught := fakeRun(bad, ids, time.Second, map[string]engine.Status{"large/1mib": engine.StatusFail})
		met := printRepeats(&out, "server", [][]gallery.ServerRun{{ok, caught}, {ok, wrong, warnMissing}}, 2)
		Expect(met).To(BeFalse())
		Expect(out.String()).To(ContainSubstring("repeat 1 of 2: 2 servers, wrong verdicts 0, other differences 0"))
		Expect(out.String()).To(ContainSubstring("repeat 2 of 2: 3 servers, wrong verdicts 1, other differences 1"))
		Expect(out.String()).To(ContainSubstring("bad: WRONG VERDICT pass, expected fail"))
		Expect(out.String()).To(ContainSubstring("zomb: verdict right, but robustness/no-zombies: pass, expected warn"))
		Expect(out.String()).To(HaveSuffix("repeats: 2, beside 2 CPU-bound neighbours: wrong verdicts 1 of 5 server runs, other differences 1\n"))

		out.Reset()
		Expect(printRepeats(&out, "server", [][]gallery.ServerRun{{ok}, {ok}}, 0)).To(BeTrue())
		Expect(out.String()).To(HaveSuffix("wrong verdicts 0 of 2 server runs, other differences 0\n"))
	})

	It("starts CPU-bound neighbours in their own process groups and always stops them", func() {
		h, err := startHogs(2)
		Expect(err).NotTo(HaveOccurred())
		defer h.stop()
		Expect(h.cmds).To(HaveLen(2))
		var pids []int
		for _, cmd := range h.cmds {
			pid := cmd.Process.Pid
			pids = append(pids, pid)
			pgid, err := syscall.Getpgid(pid)
			Expect(err).NotTo(HaveOccurred())
			Expect(pgid).To(Equal(pid), "a neighbour leads its own process group")
		}
		h.stop()
		Expect(h.cmds).To(BeEmpty())
		for _, pid := range pids {
			Expect(syscall.Kill(pid, 0)).To(MatchError(syscall.ESRCH), "neighbour %d was reaped", pid)
		}
	})

	It("counts many failed checks by category", func() {
		Expect(list([]string{"basic/a", "basic/b", "large/c", "robustness/d"}, []string{"robustness/e"})).
			To(Equal("5: basic 2, large 1, robustness 1+1 warn"))
		Expect(list(nil, nil)).To(Equal("-"))
	})
})

var _ = Describe("the command", func() {
	DescribeTable("exits 2 on bad usage, with a one-line error",
		func(args []string, want string) {
			var out, errOut bytes.Buffer
			Expect(run(args, &out, &errOut)).To(Equal(exitSetup))
			Expect(errOut.String()).To(ContainSubstring(want))
			Expect(out.String()).To(BeEmpty())
		},
		Entry("an unknown flag", []string{"-bogus"}, "flag provided but not defined"),
		Entry("a stray argument", []string{"extra"}, `unexpected argument "extra"`),
		Entry("no parallelism", []string{"-parallel", "0"}, "-parallel must be at least 1"),
		Entry("no repeat", []string{"-repeat", "0"}, "-repeat must be between 1 and 100"),
		Entry("too many repeats", []string{"-repeat", "1000000"}, "-repeat must be between 1 and 100"),
		Entry("negative neighbours", []string{"-hogs", "-1"}, "-hogs must be between 0 and 64"),
		Entry("a bad pattern", []string{"-only", "("}, "-only"),
		Entry("a pattern that matches nothing", []string{"-only", "^no-such-server$"}, "no server or client matches -only"),
	)

	It("checks a correct server and a faulty client end to end, in two tables, and exits 0", func() {
		if testing.Short() {
			Skip("-short: builds and checks a real server and a real client (about 10 s)")
		}
		var out, errOut bytes.Buffer
		Expect(run([]string{"-only", "^(echo-server|sends-nul)$"}, &out, &errOut)).To(Equal(exitOK), "stderr: %s\nstdout: %s", errOut.String(), out.String())
		Expect(out.String()).To(MatchRegexp(`(?m)^SERVER\s+KIND`))
		Expect(out.String()).To(MatchRegexp(`(?m)^echo-server\s+correct\s+pass\s+pass\s+-\s+`))
		Expect(out.String()).To(MatchRegexp(`faulty servers caught: 0/0, correct servers passed: 1/1, slowest: echo-server \(.*\)\n\n`))
		Expect(out.String()).To(MatchRegexp(`(?m)^CLIENT\s+KIND`))
		Expect(out.String()).To(MatchRegexp(`(?m)^sends-nul\s+faulty\s+fail, 1 named\s+fail\s+client/sends-exact\s+`))
		Expect(out.String()).To(MatchRegexp(`faulty clients caught: 1/1, correct clients passed: 0/0, slowest: sends-nul \(.*\)\n$`))
	})
})
