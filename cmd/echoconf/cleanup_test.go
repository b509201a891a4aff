package main_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
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
		var err error
		serverBin, err = gexec.Build("github.com/echoconf/echoconf/cmd/echo-server")
		Expect(err).NotTo(HaveOccurred())
	})

	// start runs echoconf on the reference server in exec mode with its
	// stdout on a pipe, and returns once the first progress line arrived.
	start := func() (*exec.Cmd, *os.File) {
		GinkgoHelper()
		cmd := exec.Command(echoconfBin, "check", "--no-color", "--exec", serverBin+" -addr 127.0.0.1:{port}")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		r, w, err := os.Pipe()
		Expect(err).NotTo(HaveOccurred())
		cmd.Stdout, cmd.Stderr = w, GinkgoWriter
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
