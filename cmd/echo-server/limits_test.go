package main_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// These specs reproduce, with the built binary, each shortfall found by
// running the server under load and resource limits.
var _ = Describe("echo-server under limits", func() {
	It("-model process backs off at the descriptor limit: no client of a burst is reset", func() {
		s := startShell("ulimit -n 24", nil, serverBin, "-addr", "127.0.0.1:0", "-model", "process")
		addr := listeningAddr(s)
		conns, failed := clients(addr, 60, 1000)
		Expect(failed).To(BeEmpty())
		closeAll(conns)
		Expect(s).NotTo(gexec.Exit())
	})

	It("-model process needs no thread per child: threads do not grow with connections", func() {
		s := startServer("-addr", "127.0.0.1:0", "-model", "process")
		pid := s.Command.Process.Pid
		addr := listeningAddr(s)
		conns, failed := clients(addr, 40, 100)
		Expect(failed).To(BeEmpty())
		Expect(childrenOf(pid)).To(HaveLen(40))
		Expect(procField(pid, "Threads")).To(BeNumerically("<=", 20), "threads with 40 children")
		closeAll(conns)
		Eventually(func() []int { return childrenOf(pid) }, ioTimeout).Should(BeEmpty(), "every child reaped")
		Expect(procField(pid, "Threads")).To(BeNumerically("<=", 20), "threads after the children ended")
	})

	It("-model process survives a process limit as an unprivileged user", func() {
		if os.Geteuid() != 0 {
			Skip("needs root to run the server as an unprivileged uid with its own RLIMIT_NPROC")
		}
		// A uid of its own, so that no other process counts against its limit.
		const uid = 61_515
		dir := GinkgoT().TempDir()
		Expect(os.Chmod(dir, 0o755)).To(Succeed())
		bin := filepath.Join(dir, "echo-server")
		Expect(exec.Command("cp", serverBin, bin).Run()).To(Succeed())
		Expect(os.Chmod(bin, 0o755)).To(Succeed())
		s := startShell("ulimit -u 60", &syscall.Credential{Uid: uid, Gid: uid}, bin, "-addr", "127.0.0.1:0", "-model", "process")
		pid := s.Command.Process.Pid
		addr := listeningAddr(s)
		// 40 children of a few threads each need more than 60 threads: the
		// forks and the children's threads fail, and the server must live.
		conns, failed := clients(addr, 40, 100)
		GinkgoWriter.Printf("%d of 40 clients failed under the process limit\n", len(failed))
		Expect(s).NotTo(gexec.Exit(), "the server is alive")
		Expect(procField(pid, "Threads")).To(BeNumerically("<=", 20))
		closeAll(conns)
		Eventually(func() []int { return childrenOf(pid) }, ioTimeout).Should(BeEmpty(), "every child reaped")
		c := dial(addr)
		expectEcho(c, "served after the burst")
		s.Terminate()
		Eventually(s, ioTimeout).Should(gexec.Exit(0))
	})

	DescribeTable("passes the whole suite with echoconf check --exec at the default --fd-limit 256",
		func(args string) {
			// This machine is shared and slow: the process model forks and
			// executes a Go program per connection, and 1500 of them in a row
			// need more than the default time limit when other jobs run.
			cmd := exec.Command(checkerBin, "check", "--no-color", "--timeout-scale", "3", "--exec", serverBin+" -addr 127.0.0.1:{port} "+args)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			Eventually(s, 5*time.Minute).Should(gexec.Exit(0), "stdout: %s", s.Out.Contents())
		},
		Entry("-model goroutine", "-model goroutine"),
		Entry("-model process", "-model process"),
		Entry("-splice", "-splice"),
	)

	It("-splice holds one descriptor per idle connection and no pipe after a close", func() {
		s := startServer("-addr", "127.0.0.1:0", "-splice")
		pid := s.Command.Process.Pid
		addr := listeningAddr(s)
		expectEcho(dial(addr), "warm") // the runtime's own descriptors are open now
		base := openFDs(pid)
		conns, failed := clients(addr, 100, 256<<10)
		Expect(failed).To(BeEmpty())
		Expect(openFDs(pid)).To(BeNumerically("<=", base+100), "100 idle connections after traffic")
		closeAll(conns)
		Eventually(func() int { return openFDs(pid) }, ioTimeout).Should(BeNumerically("<=", base))
	})

	It("keeps at most 16 KiB per idle connection after traffic, and returns memory when they end", func() {
		const n = 2000
		s := startServer("-addr", "127.0.0.1:0")
		pid := s.Command.Process.Pid
		addr := listeningAddr(s)
		expectEcho(dial(addr), "warm")
		base := procField(pid, "VmRSS") // KiB
		var conns []*net.TCPConn
		for range n / 200 { // 200 at a time fill their buffers at once
			batch, failed := clients(addr, 200, 64<<10)
			Expect(failed).To(BeEmpty())
			conns = append(conns, batch...)
		}
		perConn := func() int { return (procField(pid, "VmRSS") - base) * 1024 / n }
		Eventually(perConn, ioTimeout).Should(BeNumerically("<=", 16<<10), "bytes of RSS per idle connection")
		closeAll(conns)
		Eventually(func() int { return procField(pid, "VmRSS") }, ioTimeout).Should(BeNumerically("<=", base+n*2), "KiB of RSS once they all ended")
	})
})
