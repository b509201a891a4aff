package main_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// processesRunning lists the PIDs whose command line mentions path.
func processesRunning(path string) []string {
	GinkgoHelper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	Expect(err).NotTo(HaveOccurred())
	var pids []string
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil { // the process ended while we looked
			continue
		}
		if strings.Contains(string(b), path) {
			pids = append(pids, filepath.Base(d))
		}
	}
	return pids
}

var _ = Describe("an exec'd server outlives no echoconf", func() {
	var serverBin string

	BeforeEach(func() {
		if serverBin != "" {
			return // built by the first spec; the suite removes it at the end
		}
		var err error
		serverBin, err = gexec.Build("github.com/echoconf/echoconf/cmd/echo-server")
		Expect(err).NotTo(HaveOccurred())
	})

	// start runs echoconf on the reference server in exec mode with its
	// stdout on a pipe, and returns once the first progress line arrived.
	var errOut *gbytes.Buffer
	start := func() (*exec.Cmd, *os.File) {
		GinkgoHelper()
		// --repeat 10 makes the run last long enough that it is still going
		// when the test closes the pipe, even on a loaded machine.
		cmd := exec.Command(echoconfBin, "check", "--no-color", "--repeat", "10", "--exec", serverBin+" -addr 127.0.0.1:{port}")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		r, w, err := os.Pipe()
		Expect(err).NotTo(HaveOccurred())
		errOut = gbytes.NewBuffer()
		cmd.Stdout, cmd.Stderr = w, io.MultiWriter(errOut, GinkgoWriter)
		Expect(cmd.Start()).To(Succeed())
		Expect(w.Close()).To(Succeed())
		DeferCleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		Expect(r.SetReadDeadline(time.Now().Add(30 * time.Second))).To(Succeed())
		br := bufio.NewReader(r)
		line, err := br.ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(line).To(HavePrefix("echoconf check "), "the title line comes first")
		line, err = br.ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(line).To(HavePrefix("PASS"))
		Expect(processesRunning(serverBin)).NotTo(BeEmpty(), "the server runs while checks run")
		return cmd, r
	}

	It("stops the server when its stdout is closed (echoconf ... | head)", func() {
		cmd, r := start()
		Expect(r.Close()).To(Succeed())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		Eventually(done).WithTimeout(30 * time.Second).Should(Receive(&err))
		var exit *exec.ExitError
		Expect(err).To(BeAssignableToTypeOf(exit), "echoconf exits with a status, not a signal")
		Expect(err.(*exec.ExitError).ExitCode()).To(Equal(2))
		Expect(string(errOut.Contents())).To(Equal("echoconf: check: stopped: stdout was closed or failed: write /dev/stdout: broken pipe\n"))
		Eventually(func() []string { return processesRunning(serverBin) }).WithTimeout(5 * time.Second).Should(BeEmpty())
	})

	It("takes the server down when echoconf itself is killed", func() {
		cmd, r := start()
		defer r.Close()
		Expect(cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
		_ = cmd.Wait()
		Eventually(func() []string { return processesRunning(serverBin) }).WithTimeout(5 * time.Second).Should(BeEmpty())
	})
})

var _ = Describe("a server that daemonizes outlives no echoconf (issue 10)", func() {
	var daemon string

	BeforeEach(func() {
		daemon = buildGallery("daemon")["daemon"]
	})

	// gone asserts that no process runs whose command line holds s, polling
	// /proc for a bounded time.
	gone := func(s string) {
		GinkgoHelper()
		Eventually(func() []string { return processesRunning(s) }).WithTimeout(5*time.Second).WithPolling(20*time.Millisecond).
			Should(BeEmpty(), "nothing of %s is left running", s)
	}

	DescribeTable("check --exec kills the daemon, whether the started process stays or exits",
		func(args, served string, code int) {
			out := filepath.Join(GinkgoT().TempDir(), "r.json")
			s := echoconf(2*time.Minute, "check", "--format", "json", "--output", out, "--exec", daemon+" {port}"+args)
			// Not exit 2: the run went to its end. (A fork per client on a
			// loaded machine may lose a robustness check: exit 0 or 1.)
			Expect(s.ExitCode()).To(BeElementOf(0, code), string(s.Err.Contents()))
			var doc struct{ Checks []struct{ ID, Status string } }
			data, err := os.ReadFile(out)
			Expect(err).NotTo(HaveOccurred())
			Expect(json.Unmarshal(data, &doc)).To(Succeed())
			for _, c := range doc.Checks {
				if c.ID == "basic/small-message" {
					Expect(c.Status).To(Equal(served), "did the daemon serve?")
				}
			}
			gone(daemon)
		},
		Entry("the started process stays: the daemon serves", " stay", "pass", 1),
		Entry("the started process exits at once, as daemon(3) callers do", "", "fail", 1),
	)

	It("check --exec kills an orphan that also cleared its environment (the subreaper)", func() {
		// setsid -f forks a child in a new session and its parent exits;
		// env -i drops every variable, echoconf's mark included. Only the
		// parent links to echoconf, a subreaper, still lead to it.
		tag := fmt.Sprintf("%d", 900000+GinkgoParallelProcess())
		script := fmt.Sprintf("setsid -f env -i sleep %s; exec %s \"$1\" stay", tag, daemon)
		s := echoconf(2*time.Minute, "check", "--run", "basic/small-message", "--format", "json", "--output", filepath.Join(GinkgoT().TempDir(), "r.json"),
			"--exec", fmt.Sprintf("sh -c '%s' sh {port}", script))
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		gone("sleep\x00" + tag)
		gone(daemon)
	})

	DescribeTable("grade kills the daemon of a submission",
		func(cgroups string) {
			class := GinkgoT().TempDir()
			Expect(os.Chmod(class, 0o755)).To(Succeed())
			sub := filepath.Join(class, "daemonizes")
			Expect(os.Mkdir(sub, 0o755)).To(Succeed())
			src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "c", "misbehaving", "daemon.c"))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(filepath.Join(sub, "daemon.c"), src, 0o644)).To(Succeed())
			bin := "i10-daemon-" + cgroups
			s := echoconf(5*time.Minute, "grade", "--cgroups", cgroups, "--binary", bin, "--run", "./"+bin+" {port} stay",
				"--out", GinkgoT().TempDir(), class)
			Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
			// The daemon served: the basic checks passed. (Its score is not
			// the point, and its fork per client under the grade's limits
			// can lose a robustness check on a loaded machine.)
			rows, err := csv.NewReader(bytes.NewReader(s.Out.Contents())).ReadAll()
			Expect(err).NotTo(HaveOccurred())
			Expect(rows).To(HaveLen(2))
			Expect(rows[1][0]).To(Equal("daemonizes"))
			Expect(rows[1][5]).To(Equal("true"), "it built")
			Expect(rows[1][4]).NotTo(ContainSubstring("basic/"), "the daemon served the basic checks")
			gone(bin)
		},
		Entry("with --cgroups off: the mark and the subreaper", "off"),
		Entry("with --cgroups auto: the cgroup where there is one", "auto"),
	)
})
