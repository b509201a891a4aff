package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/spec"
)

// jsonChecks runs check with args and --format json, and returns each
// selected check's status and replay command by ID.
func jsonChecks(dir string, args ...string) (code int, statuses, replays map[string]string) {
	GinkgoHelper()
	out := filepath.Join(GinkgoT().TempDir(), "r.json")
	cmd := exec.Command(echoconfBin, append([]string{"check", "--format", "json", "--output", out}, args...)...)
	cmd.Dir = dir
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(s).WithTimeout(90 * time.Second).Should(gexec.Exit())
	var doc struct {
		Checks []struct {
			ID, Status, Replay string
			Selected           bool
			Failure            *struct{ Kind string }
		}
	}
	data, err := os.ReadFile(out)
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal(data, &doc)).To(Succeed())
	statuses, replays = map[string]string{}, map[string]string{}
	for _, c := range doc.Checks {
		if c.Selected {
			statuses[c.ID] = c.Status
			replays[c.ID] = c.Replay
		}
	}
	return s.ExitCode(), statuses, replays
}

// buildC compiles a C server of testdata/c into dir as ./server.
func buildC(src, dir string) {
	GinkgoHelper()
	if _, err := exec.LookPath("gcc"); err != nil {
		Skip("gcc is not installed: the C server cannot be built")
	}
	out, err := exec.Command("gcc", "-O2", "-pthread", "-o", filepath.Join(dir, "server"), filepath.Join("..", "..", "testdata", "c", src)).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
}

var _ = Describe("one vocabulary", func() {
	DescribeTable("rejects bad usage with exit 2 and a one-line message",
		func(msg string, args ...string) {
			s := echoconf(10*time.Second, args...)
			Expect(s.ExitCode()).To(Equal(2))
			errOut := string(s.Err.Contents())
			Expect(errOut).To(HavePrefix("echoconf: "))
			Expect(strings.Count(errOut, "\n")).To(Equal(1), errOut)
			Expect(errOut).To(ContainSubstring(msg))
		},
		Entry("unknown format, named in prose", `unknown format "Yaml": the formats are gradescope, html, json, junit, tap, tap13 and text`,
			"check", "--format", "Yaml", "127.0.0.1:7"),
		Entry("two --report to one file", "write the same file", "check", "--report", "json=r.out", "--report", "tap=./r.out", "127.0.0.1:7"),
		Entry("--output and --report to one file", "--output and --report junit=r.out write the same file", "check", "--output", "r.out", "--report", "junit=r.out", "127.0.0.1:7"),
		Entry("grade: --run and --exec disagree", "give one of them", "grade", "--run", "./a {port}", "--exec", "./b {port}", "."),
	)

	It("selects checks with --select, as grade does, and still with --run", func() {
		for _, flag := range []string{"--select", "--run"} {
			code, statuses, _ := jsonChecks("", flag, "basic/no-greeting,halfclose")
			Expect(code).To(Equal(0), flag)
			Expect(statuses).To(HaveLen(4), flag)
			Expect(statuses).To(HaveKeyWithValue("basic/no-greeting", "pass"))
			Expect(statuses).To(HaveKey("halfclose/small-pending"))
		}
	})

	It("takes format names in any case", func() {
		out := filepath.Join(GinkgoT().TempDir(), "r.xml")
		s := echoconf(60*time.Second, "check", "--select", "basic/no-greeting", "--format", "JUnit", "--output", out, "--report", "TAP13="+out+".tap")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(os.ReadFile(out)).To(ContainSubstring("<testsuites>"))
		Expect(os.ReadFile(out + ".tap")).To(HavePrefix("TAP version 13\n"))
	})

	It("prints the text report's title line first, then the progress, then the summary", func() {
		s := echoconf(60*time.Second, "check", "--no-color", "--select", "basic/no-greeting,basic/small-message")
		Expect(s.ExitCode()).To(Equal(0))
		lines := strings.Split(string(s.Out.Contents()), "\n")
		Expect(lines[0]).To(MatchRegexp(`^echoconf check built-in reference server at 127\.0\.0\.1:\d+$`))
		Expect(lines[1]).To(MatchRegexp(`^PASS +basic/`))
		Expect(lines[2]).To(MatchRegexp(`^PASS +basic/`))
		Expect(lines[3]).To(BeEmpty())
		Expect(lines[4]).To(HavePrefix("2 passed, 0 failed"))
		Expect(string(s.Out.Contents())).To(HaveSuffix("PASS: conformant\n"))
	})

	It("shows progress on stderr when it is a terminal, whatever the format, and the verdict at the end", func() {
		ptmx, tty, err := pty.Open()
		Expect(err).NotTo(HaveOccurred())
		defer ptmx.Close()
		out := filepath.Join(GinkgoT().TempDir(), "r.json")
		cmd := exec.Command(echoconfBin, "check", "--format", "json", "--output", out, "--select", "basic/small-message,basic/no-greeting",
			"--timeout-scale", "0.7", silentServer())
		cmd.Stdout, cmd.Stderr = GinkgoWriter, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		Expect(cmd.Start()).To(Succeed())
		Expect(tty.Close()).To(Succeed())
		var seen bytes.Buffer
		copied := make(chan error, 1)
		go func() {
			_, err := io.Copy(&seen, ptmx) // ends with EIO when the child exits
			copied <- err
		}()
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		var werr error
		Eventually(waited).WithTimeout(30 * time.Second).Should(Receive(&werr))
		var exit *exec.ExitError
		Expect(errors.As(werr, &exit)).To(BeTrue())
		Expect(exit.ExitCode()).To(Equal(1))
		Eventually(copied).WithTimeout(5 * time.Second).Should(Receive())
		text := seen.String()
		Expect(text).To(ContainSubstring("[0/2] running basic/"), "the counter and the check running now")
		Expect(text).To(MatchRegexp(`\[2/2\] FAIL: not conformant \(0 passed, 2 failed, 0 warned\) in [0-9.]+s`))
		Expect(os.ReadFile(out)).To(ContainSubstring(`"verdict": "fail"`))
	})

	It("writes no progress to a stderr that is not a terminal", func() {
		out := filepath.Join(GinkgoT().TempDir(), "r.json")
		s := echoconf(60*time.Second, "check", "--format", "json", "--output", out, "--select", "basic/no-greeting")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(s.Err.Contents()).To(BeEmpty())
		Expect(s.Out.Contents()).To(BeEmpty())
	})

	It("replays a failure with the command the report gives, against the student's ./server", func() {
		dir := GinkgoT().TempDir()
		buildC("faulty/upcase.c", dir)
		code, statuses, replays := jsonChecks(dir, "--select", "basic,robustness/no-zombies", "--seed", "99", "--exec", "./server {port}")
		Expect(code).To(Equal(1))
		Expect(statuses).To(HaveKeyWithValue("basic/small-message", "fail"))
		Expect(statuses).To(HaveKeyWithValue("robustness/no-zombies", "unjudged"))
		replay := replays["basic/small-message"]
		Expect(replay).To(Equal("echoconf check --select basic/small-message --seed 99 --timeout-scale 1 --exec './server {port}'"))

		out := filepath.Join(GinkgoT().TempDir(), "replay.txt")
		cmd := exec.Command("/bin/sh", "-c", strings.Replace(replay, "echoconf", echoconfBin, 1)+" --no-color --output "+out)
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(s).WithTimeout(60 * time.Second).Should(gexec.Exit(1))
		text, err := os.ReadFile(out)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(text)).To(ContainSubstring("FAIL     basic/small-message"))
		Expect(string(text)).To(ContainSubstring(fmt.Sprintf("(%d not selected)", len(spec.All())-1)), "that check alone")
		Expect(string(text)).To(ContainSubstring("replay: " + replay))
		Expect(string(text)).To(MatchRegexp(`timeline:\n +1 connection\(s\), \d+ bytes written, \d+ bytes read\n +\+\S+ +conn 1 +connect\n`))
	})

	It("grades with --exec, as check starts a server, and still takes --run with a deprecation note", func() {
		if _, err := exec.LookPath("gcc"); err != nil {
			Skip("gcc is not installed: the submission cannot be built")
		}
		class := GinkgoT().TempDir()
		Expect(os.CopyFS(filepath.Join(class, "alice"), os.DirFS(filepath.Join("..", "..", "testdata", "class", "correct")))).To(Succeed())
		for _, flag := range []string{"--exec", "--run"} {
			// A dedicated uid as root: never nobody, whose servers the
			// grade package's tests watch.
			s := echoconf(120*time.Second, "grade", "--cgroups", "off", "--uid-base", strconv.Itoa(earlyCloseUIDBase+20), "--select", "basic/no-greeting",
				flag, "./server {port}", class)
			Expect(s.ExitCode()).To(Equal(0), flag)
			Expect(s.Out).To(gbytes.Say(`alice,4,4,pass`))
			if flag == "--run" {
				Expect(string(s.Err.Contents())).To(ContainSubstring("--run is deprecated for the server's command line; use --exec"))
			} else {
				Expect(string(s.Err.Contents())).NotTo(ContainSubstring("deprecated"))
			}
		}
	})
})
