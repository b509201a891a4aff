package main_test

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/spec"
)

// echoconf runs the binary with args and waits for it to exit.
func echoconf(timeout time.Duration, args ...string) *gexec.Session {
	GinkgoHelper()
	s, err := gexec.Start(exec.Command(echoconfBin, args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(s).WithTimeout(timeout).Should(gexec.Exit())
	return s
}

// silentServer accepts connections and never reads or writes.
func silentServer() string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	done := make(chan struct{})
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			close(done)
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	DeferCleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func refusedAddr() string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	return addr
}

var _ = Describe("echoconf", func() {
	DescribeTable("rejects bad usage with exit 2 and a one-line message",
		func(msg string, args ...string) {
			s := echoconf(10*time.Second, args...)
			Expect(s.ExitCode()).To(Equal(2))
			errOut := string(s.Err.Contents())
			Expect(errOut).To(HavePrefix("echoconf: "))
			Expect(strings.Count(errOut, "\n")).To(Equal(1), errOut)
			Expect(errOut).To(ContainSubstring(msg))
			Expect(s.Out.Contents()).To(BeEmpty())
		},
		Entry("unknown command", "unknown command", "chekc"),
		Entry("unknown flag", "flag provided but not defined", "check", "--bogus"),
		Entry("missing port", "HOST:PORT", "check", "127.0.0.1"),
		Entry("port zero", "not a number in 1..65535", "check", "127.0.0.1:0"),
		Entry("named port", "not a number in 1..65535", "check", "localhost:echo"),
		Entry("empty host", "missing host", "check", ":7007"),
		Entry("unbracketed IPv6", "too many colons", "check", "::1:7007"),
		Entry("two targets", "at most one target", "check", "127.0.0.1:7", "127.0.0.1:8"),
		Entry("target and --exec", "not both", "check", "--exec", "./server {port}", "127.0.0.1:7"),
		Entry("--exec without {port}", "{port}", "check", "--exec", "./server 7007"),
		Entry("--exec with a bad quote", "unterminated", "check", "--exec", "./server '{port}"),
		Entry("unknown format", `unknown format "yaml"`, "check", "--format", "yaml", "127.0.0.1:7"),
		Entry("unknown --report format", `unknown format "xml"`, "check", "--report", "xml=out.xml", "127.0.0.1:7"),
		Entry("malformed --report", "FORMAT=FILE", "check", "--report", "json", "127.0.0.1:7"),
		Entry("malformed glob", "invalid pattern", "check", "--run", "basic/[", "127.0.0.1:7"),
		Entry("glob matching nothing", "matches no check", "check", "--run", "halfclos", "127.0.0.1:7"),
		Entry("repeat 0", "--repeat", "check", "--repeat", "0", "127.0.0.1:7"),
		Entry("timeout scale 0", "--timeout-scale", "check", "--timeout-scale", "0", "127.0.0.1:7"),
		Entry("--restart without --exec", "need --exec", "check", "--restart", "127.0.0.1:7"),
		Entry("unwritable --output", "--output", "check", "--output", "/nonexistent/dir/out.txt", "127.0.0.1:7"),
		Entry("list with an argument", "no arguments", "list", "extra"),
		Entry("grade: unknown --cgroups mode", "--cgroups must be auto, required or off", "grade", "--cgroups", "yes", "."),
		Entry("grade: --cpus too small", "--cpus must be 0 (no cap) or in 0.01..1024", "grade", "--cpus", "0.001", "."),
		Entry("grade: no directory", "want one SUBMISSIONS_DIR", "grade"),
		// Issue 10 §6: rejected before anything starts or is printed, with
		// no target too (the built-in reference server is not started).
		Entry("timeout scale NaN", "--timeout-scale must be in (0, 1000], got NaN", "check", "--timeout-scale", "NaN"),
		Entry("timeout scale Inf", "--timeout-scale must be in (0, 1000], got +Inf", "check", "--timeout-scale", "Inf"),
		Entry("timeout scale -Inf", "--timeout-scale", "check", "--timeout-scale", "-Inf"),
		Entry("negative timeout scale", "--timeout-scale", "check", "--timeout-scale", "-1"),
		Entry("no target, --run matching nothing", `pattern "nosuch" matches no check`, "check", "--run", "nosuch"),
		Entry("no target, malformed --run", `invalid pattern "["`, "check", "--run", "["),
		Entry("no target, malformed --skip", `invalid pattern "basic/["`, "check", "--skip", "basic/["),
		Entry("no target, --repeat too large", "--repeat must be in 1..1000, got 1000000000", "check", "--repeat", "1000000000"),
		Entry("--repeat just above the bound", "--repeat must be in 1..1000, got 1001", "check", "--repeat", "1001", "127.0.0.1:7"),
		Entry("--exec of a program not in PATH", "cannot run the exec command: nonexistent-i10: command not found (not in PATH)",
			"check", "--exec", "nonexistent-i10 {port}"),
		Entry("--exec of a missing file", "cannot run the exec command: ./nonexistent-i10: no such file",
			"check", "--exec", "./nonexistent-i10 {port}"),
		Entry("--exec of a file that is not executable", "cannot run the exec command: /etc/passwd: not executable",
			"check", "--exec", "/etc/passwd {port}"),
		Entry("--exec through sh of a program that is not found", "ended with exit status 127 before it listened: ",
			"check", "--exec", "sh -c 'exec nonexistent-i10' {port}"),
		Entry("--fd-limit above the system's maximum", "the fd limit 99999999 is above the system's maximum",
			"check", "--fd-limit", "99999999", "--exec", "sleep {port}"),
		Entry("grade: --timeout-scale NaN", "--timeout-scale must be in (0, 1000], got NaN", "grade", "--timeout-scale", "NaN", "."),
		Entry("grade: --cpus NaN", "--cpus must be 0 (no cap) or in 0.01..1024, got NaN", "grade", "--cpus", "NaN", "."),
		Entry("grade: --repeat too large", "--repeat must be in 1..1000", "grade", "--repeat", "1000000000", "."),
	)

	It("skips, with their reason, the checks that need --exec against an unreachable target (issue 10)", func() {
		s := echoconf(20*time.Second, "check", "--format", "json", "127.0.0.1:1")
		Expect(s.ExitCode()).To(Equal(1))
		var doc struct {
			Checks []struct{ ID, Status, Message string }
		}
		Expect(json.Unmarshal(s.Out.Contents(), &doc)).To(Succeed())
		statuses := make(map[string]string)
		for _, c := range doc.Checks {
			statuses[c.ID] = c.Status
			if c.Status == "skip" {
				Expect(c.Message).To(ContainSubstring("run the server with --exec"), c.ID)
			}
		}
		for _, id := range []string{"robustness/server-alive", "robustness/no-zombies", "robustness/fd-stable"} {
			Expect(statuses).To(HaveKeyWithValue(id, "skip"))
		}
		Expect(statuses).To(HaveKeyWithValue("basic/small-message", "fail"))
	})

	It("lists the catalogue with IDs, levels and requirements", func() {
		for _, args := range [][]string{{"list"}, {"check", "--list"}} {
			s := echoconf(10*time.Second, args...)
			Expect(s.ExitCode()).To(Equal(0))
			out := string(s.Out.Contents())
			for _, c := range spec.All() {
				Expect(out).To(ContainSubstring(c.ID))
				Expect(out).To(ContainSubstring(c.Requirement))
			}
			Expect(out).To(ContainSubstring("SHOULD"))
		}
	})

	It("prints help and the version", func() {
		s := echoconf(10*time.Second, "help", "check")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(s.Out).To(gbytes.Say("--exec"))
		Expect(s.Out).To(gbytes.Say("Exit codes"))
		s = echoconf(10*time.Second, "version")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(s.Out).To(gbytes.Say(`^echoconf \S+`))
	})

	It("passes the built-in reference server, writing several reports in one run", func() {
		dir := GinkgoT().TempDir()
		jsonFile, textFile, junitFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.txt"), filepath.Join(dir, "r.xml")
		s := echoconf(60*time.Second, "check", "--no-color", "--report", "json="+jsonFile, "--report", "text="+textFile,
			"--report", "junit="+junitFile)
		Expect(s.ExitCode()).To(Equal(0), string(s.Out.Contents()))
		Expect(s.Out).To(gbytes.Say("built-in reference server"))
		Expect(s.Out).To(gbytes.Say("PASS: conformant"))
		Expect(string(s.Out.Contents())).NotTo(ContainSubstring("\x1b["))

		var doc map[string]any
		data, err := os.ReadFile(jsonFile)
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(data, &doc)).To(Succeed())
		Expect(doc).To(HaveKeyWithValue("schema_version", BeNumerically("==", 1)))
		Expect(doc).To(HaveKeyWithValue("verdict", "pass"))
		Expect(doc).To(HaveKey("started"))
		checks := doc["checks"].([]any)
		Expect(checks).To(HaveLen(len(spec.All())))
		for _, c := range checks {
			Expect(c).To(HaveKey("id"))
			Expect(c).To(HaveKey("level"))
			Expect(c).To(HaveKeyWithValue("status", BeElementOf("pass", "skip")))
			Expect(c).To(HaveKey("message"))
			Expect(c).To(HaveKey("duration_ms"))
		}
		Expect(os.ReadFile(textFile)).To(ContainSubstring("PASS: conformant"))
		Expect(os.ReadFile(junitFile)).To(ContainSubstring("<testsuite"))
	})

	It("writes json to --output and fails (exit 1) a server that never answers", func() {
		out := filepath.Join(GinkgoT().TempDir(), "r.json")
		s := echoconf(30*time.Second, "check", "--format", "json", "--output", out, "--run", "basic/small-message,basic/many-messages",
			"--timeout-scale", "0.3", silentServer())
		Expect(s.ExitCode()).To(Equal(1))
		var doc struct {
			Verdict string `json:"verdict"`
			Checks  []struct {
				ID, Status string
				Failure    *struct{ Kind string } `json:"failure"`
			} `json:"checks"`
		}
		data, err := os.ReadFile(out)
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(data, &doc)).To(Succeed())
		Expect(doc.Verdict).To(Equal("fail"))
		failed := 0
		for _, c := range doc.Checks {
			if c.Status == "fail" {
				failed++
				Expect(c.Failure.Kind).To(Equal("timeout"))
			}
		}
		Expect(failed).To(Equal(2))
	})

	It("fails (exit 1) an unreachable target quickly, IPv6 literals included", func() {
		for _, addr := range []string{refusedAddr(), "[::1]:1"} {
			start := time.Now()
			s := echoconf(20*time.Second, "check", "--no-color", addr)
			Expect(s.ExitCode()).To(Equal(1), addr)
			Expect(time.Since(start)).To(BeNumerically("<", 8*time.Second))
			Expect(s.Out).To(gbytes.Say("refused"))
			Expect(s.Out).To(gbytes.Say("FAIL: not conformant"))
		}
	})

	It("fails (exit 1) an exec'd server that never listens, and kills it", func() {
		s := echoconf(20*time.Second, "check", "--no-color", "--startup-timeout", "300ms",
			"--exec", "sh -c 'echo started; exec sleep 30' {port}")
		Expect(s.ExitCode()).To(Equal(1))
		Expect(s.Out).To(gbytes.Say("no connection accepted on"))
		Expect(s.Out).To(gbytes.Say(`Server sh -c echo started; exec sleep 30 \d+ \(pid (\d+)\)`))
		Expect(string(s.Out.Contents())).To(ContainSubstring("| started"))
	})
})
