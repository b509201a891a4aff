package cgroup_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/cgroup"
)

// requireCgroups skips a spec where this process cannot make groups.
func requireCgroups() {
	GinkgoHelper()
	if _, err := cgroup.Available(); err != nil {
		Skip("cgroups cannot be made here (they need root and a cgroup file system): " + err.Error())
	}
}

// newGroup makes a group that is closed, and checked gone, after the spec.
func newGroup(l cgroup.Limits) *cgroup.Group {
	GinkgoHelper()
	g, err := cgroup.New("test "+CurrentSpecReport().LeafNodeText, l)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		Expect(g.Close()).To(Succeed())
		for _, d := range g.Dirs() {
			Expect(d).NotTo(BeADirectory(), "the group's directory is removed")
		}
	})
	return g
}

// start starts argv in g, in its own process group, and reaps it after
// the spec.
func start(g *cgroup.Group, argv ...string) *exec.Cmd {
	GinkgoHelper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	Expect(g.Start(cmd)).To(Succeed())
	DeferCleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd
}

// cgroupsOf returns the contents of /proc/PID/cgroup ("" once it is gone).
func cgroupsOf(pid string) string {
	b, _ := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))
	return string(b)
}

var _ = Describe("a group", func() {
	BeforeEach(requireCgroups)

	It("holds the command and every descendant, even one that left the process group, and kills them all", func() {
		g := newGroup(cgroup.Limits{Pids: 64})
		// The inner shell leaves the process group and the session.
		cmd := start(g, "/bin/sh", "-c", `setsid /bin/sh -c 'sleep 300' & sleep 300`)
		Eventually(func() int { p, _ := g.PIDs(); return len(p) }).WithTimeout(5*time.Second).Should(BeNumerically(">=", 4),
			"sh, its sleep, the setsid'd sh and its sleep")
		pids, err := g.PIDs()
		Expect(err).NotTo(HaveOccurred())
		Expect(pids).To(ContainElement(cmd.Process.Pid))
		for _, pid := range pids {
			Expect(cgroupsOf(itoa(pid))).To(ContainSubstring(g.Name()), "process %d is in the group", pid)
		}
		Expect(g.Kill(5 * time.Second)).To(Equal(0))
		for _, pid := range pids {
			if pid == cmd.Process.Pid {
				continue // our child: a zombie until reaped
			}
			Eventually(func() error { return syscall.Kill(pid, 0) }).WithTimeout(5 * time.Second).Should(MatchError(syscall.ESRCH))
		}
	})

	It("leaves the caller's threads where they were", func() {
		g := newGroup(cgroup.Limits{})
		start(g, "sleep", "300")
		Eventually(func() []string {
			var in []string
			tasks, _ := os.ReadDir("/proc/self/task")
			for _, t := range tasks {
				if strings.Contains(cgroupsOf(filepath.Join(itoa(os.Getpid()), "task", t.Name())), g.Name()) {
					in = append(in, t.Name())
				}
			}
			return in
		}).WithTimeout(5*time.Second).Should(BeEmpty(), "the thread that forked the command has ended")
	})

	It("contains a fork bomb within its process limit", func() {
		g := newGroup(cgroup.Limits{Pids: 20})
		start(g, "/bin/sh", "-c", `while :; do sleep 300 & done`)
		Eventually(func() int { return g.Stats().ForksRefused }).WithTimeout(10 * time.Second).Should(BeNumerically(">", 0))
		pids, err := g.PIDs()
		Expect(err).NotTo(HaveOccurred())
		Expect(len(pids)).To(BeNumerically("<=", 20))
		if peak := g.Stats().PidsPeak; peak > 0 { // pids.peak: Linux 6.1+
			Expect(peak).To(BeNumerically("<=", 20))
		}
		Expect(g.Kill(5 * time.Second)).To(Equal(0))
	})

	It("kills a fork bomb with the group closed to forks, then restores its process limit", func() {
		g := newGroup(cgroup.Limits{Pids: 20})
		pidsFile := func(name string) string {
			for _, d := range g.Dirs() {
				if b, err := os.ReadFile(filepath.Join(d, name)); err == nil {
					return strings.TrimSpace(string(b))
				}
			}
			return ""
		}
		Expect(pidsFile("pids.max")).To(Equal("20"))
		bomb := start(g, "/bin/sh", "-c", `while :; do sh -c 'while :; do :; done' & done`)
		Eventually(func() int { return g.Stats().ForksRefused }).WithTimeout(10 * time.Second).Should(BeNumerically(">", 0))
		Expect(g.Kill(5 * time.Second)).To(Equal(0))
		Expect(pidsFile("pids.max")).To(Equal("20"), "Kill restores pids.max")
		Expect(bomb.Wait()).To(HaveOccurred(), "killed")
		// The killed processes are uncharged once reaped; the group then
		// starts processes again, up to its limit.
		Eventually(func() string { return pidsFile("pids.current") }).WithTimeout(10 * time.Second).Should(Equal("0"))
		cmd := start(g, "/bin/sh", "-c", `for i in 1 2 3 4 5; do sleep 30 & done; wait`)
		Eventually(func() (int, error) { p, err := g.PIDs(); return len(p), err }).WithTimeout(10 * time.Second).Should(Equal(6))
		Expect(g.Kill(5 * time.Second)).To(Equal(0))
		Expect(cmd.Wait()).To(HaveOccurred(), "killed")
	})

	It("caps its CPU", func() {
		g := newGroup(cgroup.Limits{CPUs: 0.1})
		start(g, "/bin/sh", "-c", `while :; do :; done`)
		Eventually(func() time.Duration { return g.Stats().Throttled }).WithTimeout(10 * time.Second).Should(BeNumerically(">", 0))
	})

	It("kills a process that outgrows its memory limit", func() {
		g := newGroup(cgroup.Limits{Memory: 32 << 20})
		if ok, why := g.MemoryLimited(); !ok {
			Skip("the memory controller cannot be used here: " + why)
		}
		// dd's buffer is bs bytes, touched by every read.
		cmd := exec.Command("dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=4")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		Expect(g.Start(cmd)).To(Succeed())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		go func() { <-ctx.Done(); _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }()
		err := cmd.Wait()
		Expect(ctx.Err()).NotTo(HaveOccurred(), "dd ended by itself")
		Expect(err).To(HaveOccurred())
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		Expect(ws.Signaled() && ws.Signal() == syscall.SIGKILL).To(BeTrue(), "dd was killed, not %v", cmd.ProcessState)
		Expect(g.Stats().OOMKills).To(BeNumerically(">=", 1))
	})

	It("refuses to start a command once closed", func() {
		g, err := cgroup.New("closed", cgroup.Limits{})
		Expect(err).NotTo(HaveOccurred())
		Expect(g.Close()).To(Succeed())
		Expect(g.Start(exec.Command("true"))).To(MatchError(ContainSubstring("closed")))
	})
})

var _ = Describe("groups left by an echoconf process that was killed", func() {
	BeforeEach(requireCgroups)

	It("are removed, and those of a live process are not", func() {
		ended := exec.Command("true")
		Expect(ended.Run()).To(Succeed())
		var stale, live []string
		for _, parent := range cgroup.Parents() {
			s := filepath.Join(parent, "echoconf-"+itoa(ended.Process.Pid)+"-1-stale")
			l := filepath.Join(parent, "echoconf-1-1-live") // pid 1 never ends
			for _, d := range []string{s, l} {
				Expect(os.Mkdir(d, 0o755)).To(Succeed())
			}
			DeferCleanup(func() { _ = os.Remove(s); _ = os.Remove(l) })
			stale, live = append(stale, s), append(live, l)
		}
		Expect(stale).NotTo(BeEmpty())
		cgroup.RemoveStale()
		for _, d := range stale {
			Expect(d).NotTo(BeADirectory())
		}
		for _, d := range live {
			Expect(d).To(BeADirectory())
		}
	})
})
