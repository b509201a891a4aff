package reap_test

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/reap"
)

// alive reports whether pid runs (a zombie does not count).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

var _ = Describe("Kill", func() {
	It("kills a marked daemon that left its session and was re-parented, and nothing unmarked", func() {
		mark := reap.NewMark()
		Expect(mark).To(HaveLen(32))
		Expect(reap.NewMark()).NotTo(Equal(mark))
		// The daemon: setsid -f forks into a new session and its parent
		// exits, so the sleep is re-parented away from the shell.
		cmd := exec.Command("sh", "-c", "setsid -f sleep 30071; echo started; exec sleep 301")
		cmd.Env = append(os.Environ(), reap.Env(mark))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.StdoutPipe()
		Expect(err).NotTo(HaveOccurred())
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(line).To(Equal("started\n"))

		bystander := exec.Command("sleep", "302")
		bystander.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		Expect(bystander.Start()).To(Succeed())
		DeferCleanup(func() { _ = bystander.Process.Kill(); _ = bystander.Wait() })

		var daemon int
		Eventually(func() int { daemon = findCmdline("sleep\x0030071\x00"); return daemon }).
			WithTimeout(5 * time.Second).WithPolling(10 * time.Millisecond).ShouldNot(BeZero())
		Expect(alive(daemon)).To(BeTrue())

		Expect(reap.Kill(mark, cmd.Process.Pid, os.Getuid(), 5*time.Second)).To(BeZero())
		Expect(alive(daemon)).To(BeFalse(), "the daemon is gone")
		Expect(cmd.Wait()).To(MatchError(ContainSubstring("killed")), "the leader was killed too; os/exec reaps it")
		Expect(alive(bystander.Process.Pid)).To(BeTrue(), "an unmarked process is left alone")
	})

	It("reaps the zombies that a dead session leader left to a subreaper", func() {
		Expect(reap.Subreaper()).To(Succeed())
		// sleep 1 ends after its parent has become sleep 30072, which never
		// waits for it: a zombie of the leader. (A child that ended before
		// the exec could be reaped by the shell, and there would be none.)
		mark := reap.NewMark()
		cmd := exec.Command("sh", "-c", "sleep 1 & echo started; exec sleep 30072")
		cmd.Env = append(os.Environ(), reap.Env(mark))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		out, err := cmd.StdoutPipe()
		Expect(err).NotTo(HaveOccurred())
		Expect(cmd.Start()).To(Succeed())
		leader := cmd.Process.Pid
		_, err = bufio.NewReader(out).ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		DeferCleanup(func() {
			_ = syscall.Kill(-leader, syscall.SIGKILL)
			Eventually(waited).WithTimeout(5 * time.Second).Should(Receive())
		})
		Eventually(func() []int { return zombiesOf(leader) }).WithTimeout(15 * time.Second).WithPolling(10 * time.Millisecond).
			Should(HaveLen(1))
		zombie := zombiesOf(leader)[0]

		// The server dies on its own: its zombie is re-parented to this
		// process, and no longer descends from anything marked.
		Expect(syscall.Kill(leader, syscall.SIGKILL)).To(Succeed())
		var werr error
		Eventually(waited).WithTimeout(5 * time.Second).Should(Receive(&werr))
		waited <- werr // for the cleanup
		Eventually(func() []int { return zombiesOf(os.Getpid()) }).WithTimeout(5 * time.Second).WithPolling(10 * time.Millisecond).
			Should(ContainElement(zombie))

		Expect(reap.Kill(mark, leader, os.Getuid(), 5*time.Second)).To(BeZero())
		_, err = os.Stat("/proc/" + strconv.Itoa(zombie))
		Expect(os.IsNotExist(err)).To(BeTrue(), "the zombie was re-parented to this process and reaped")
	})

	It("leaves alone, unread, a marked process of another user than the program's", func() {
		if os.Geteuid() != 0 {
			Skip("not root: a process of another user cannot be started")
		}
		mark := reap.NewMark()
		other := exec.Command("sleep", "30073")
		other.Env = append(os.Environ(), reap.Env(mark))
		other.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		Expect(other.Start()).To(Succeed())
		DeferCleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
		leader := other.Process.Pid
		Expect(reap.Kill(mark, leader, 0, time.Second)).To(BeZero(), "nothing of uid 0 carries the mark")
		Expect(alive(leader)).To(BeTrue(), "the process of uid 65534 is not taken for the program's")
		Expect(reap.Kill(mark, leader, 65534, 5*time.Second)).To(BeZero())
		Expect(other.Wait()).To(MatchError(ContainSubstring("killed")))
	})

	It("returns at once when nothing carries the mark", func() {
		Expect(reap.Kill(reap.NewMark(), 0, -1, time.Second)).To(BeZero())
	})
})

// zombiesOf returns the zombie children of pid.
func zombiesOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	Expect(err).NotTo(HaveOccurred())
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// findCmdline returns the pid of a process whose command line is exactly
// cmdline, or 0.
func findCmdline(cmdline string) int {
	entries, err := os.ReadDir("/proc")
	Expect(err).NotTo(HaveOccurred())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && string(b) == cmdline {
			return pid
		}
	}
	return 0
}

var _ = Describe("which environments Kill reads", func() {
	const leader, self = 100, 10
	DescribeTable("only those of processes that may root a marked tree",
		func(pid, ppid, pgid, sid int, want bool) {
			Expect(reap.MayCarry(reap.Proc(pid, ppid, pgid, sid), leader, self)).To(Equal(want))
		},
		Entry("the leader's session", 120, 100, 120, 100, true),
		Entry("the leader's process group", 121, 500, 100, 500, true),
		Entry("an orphan adopted by init", 122, 1, 122, 122, true),
		Entry("an orphan adopted by the caller, a subreaper", 123, self, 123, 123, true),
		Entry("a process whose parent is outside the PID namespace", 124, 0, 124, 124, true),
		Entry("a child of an unrelated process: a fork bomb's, whose memory map is never free", 125, 700, 700, 700, false),
	)
})
