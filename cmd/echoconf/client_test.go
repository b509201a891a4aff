package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/internal/gallery"
	"github.com/echoconf/echoconf/internal/validate"
	"github.com/echoconf/echoconf/spec"
)

// galleryClient builds the named C client of testdata/clients.json into a
// temporary directory and returns its command line (the manifest's run
// template), with {host}, {port} and {message} left for check-client.
func galleryClient(name string) string {
	GinkgoHelper()
	return buildClientAt(name, filepath.Join(GinkgoT().TempDir(), name))
}

// buildClientAt builds the named C client of testdata/clients.json as bin
// and returns its command line.
func buildClientAt(name, bin string) string {
	GinkgoHelper()
	requireGCC()
	var m struct {
		Clients []struct {
			Name, Run string
			Sources   []string
			CFlags    []string `json:"cflags"`
		}
	}
	testdata := filepath.Join("..", "..", "testdata")
	data, err := os.ReadFile(filepath.Join(testdata, "clients.json"))
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal(data, &m)).To(Succeed())
	for _, c := range m.Clients {
		if c.Name != name {
			continue
		}
		Expect(os.MkdirAll(filepath.Dir(bin), 0o755)).To(Succeed())
		args := append(append([]string{}, gallery.BaseCFlags...), c.CFlags...)
		args = append(args, "-o", bin)
		for _, src := range c.Sources {
			args = append(args, filepath.Join(testdata, src))
		}
		out, code := runIn(".", os.Environ(), time.Minute, gallery.Compiler(), args...)
		Expect(code).To(Equal(0), out)
		return strings.ReplaceAll(c.Run, "{bin}", bin)
	}
	Fail("testdata/clients.json has no client " + name)
	return ""
}

var echoClientBin string

// echoClient builds the reference echo-client once.
func echoClient() string {
	GinkgoHelper()
	if echoClientBin == "" {
		bin, err := gexec.Build("github.com/echoconf/echoconf/cmd/echo-client")
		Expect(err).NotTo(HaveOccurred())
		echoClientBin = bin
	}
	return echoClientBin
}

// programRunning returns the PIDs of the processes that run the program
// at path (their argv[0]).
func programRunning(path string) []string {
	GinkgoHelper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	Expect(err).NotTo(HaveOccurred())
	var pids []string
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil { // the process ended while we looked
			continue
		}
		if bytes.HasPrefix(b, []byte(path+"\x00")) {
			pids = append(pids, filepath.Base(d))
		}
	}
	return pids
}

// need skips the spec when err says a consumer's tool is missing (outside
// CI, where it fails instead); any other error fails the spec.
func need(err error) {
	GinkgoHelper()
	if reason, ok := validate.Absent(err); ok {
		Skip(reason)
	}
	Expect(err).NotTo(HaveOccurred())
}

// replayRE finds a check-client replay line in a text report.
var replayRE = regexp.MustCompile(`(?m)^    replay: (echoconf check-client .*)$`)

var _ = Describe("echoconf check-client", func() {
	It("lists the client catalogue, alone", func() {
		for _, args := range [][]string{{"list", "--client"}, {"check-client", "--list"}} {
			s := echoconf(10*time.Second, args...)
			Expect(s.ExitCode()).To(Equal(0))
			out := string(s.Out.Contents())
			for _, c := range spec.Clients() {
				Expect(out).To(ContainSubstring(c.ID))
				Expect(out).To(ContainSubstring(c.Requirement))
			}
			Expect(out).NotTo(ContainSubstring("basic/"))
			Expect(out).NotTo(ContainSubstring("needs the server's process"))
		}
	})

	It("is in the help, with its flags, shapes and exit codes", func() {
		s := echoconf(10*time.Second, "help")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`(?m)^  check-client +check an echo client`))
		s = echoconf(10*time.Second, "help", "check-client")
		Expect(s.ExitCode()).To(Equal(0))
		out := string(s.Out.Contents())
		for _, flag := range []string{"exec", "shape", "stdin", "tty", "select", "run", "skip", "seed", "timeout-scale", "strict", "repeat", "format", "output", "report", "no-color", "parallel", "list"} {
			Expect(out).To(MatchRegexp(`(?m)^  -`+flag+`\b`), flag)
		}
		for _, want := range []string{"argument ", "interactive ", "stream ", "Exit codes: 0"} {
			Expect(out).To(ContainSubstring(want))
		}
	})

	DescribeTable("rejects bad usage with exit 2 and one line, before running anything",
		func(msg string, args ...string) {
			s := echoconf(10*time.Second, append([]string{"check-client"}, args...)...)
			Expect(s.ExitCode()).To(Equal(2))
			errOut := string(s.Err.Contents())
			Expect(errOut).To(HavePrefix("echoconf: check-client: "))
			Expect(strings.Count(errOut, "\n")).To(Equal(1), errOut)
			Expect(errOut).To(ContainSubstring(msg))
			Expect(s.Out.Contents()).To(BeEmpty())
		},
		Entry("no --exec", "--exec 'COMMAND ... {host} ... {port}' is required"),
		Entry("an empty --exec", "--exec needs a command", "--exec", " "),
		Entry("no {port}", "has no {port} placeholder", "--exec", "./client {host} 7"),
		Entry("{message} with --shape stream", "a stream client reads its input from stdin, and the --exec command has a {message}",
			"--exec", "./client {host} {port} {message}", "--shape", "stream"),
		Entry("{message} with --stdin", "an interactive client reads its input from stdin", "--exec", "./client {host} {port} {message}", "--stdin"),
		Entry("--shape argument without {message}", "has no {message}", "--exec", "./client {host} {port}", "--shape", "argument"),
		Entry("an unknown shape", `unknown client shape "pipe"`, "--exec", "./client {host} {port}", "--shape", "pipe"),
		Entry("--stdin with another shape", "--stdin means --shape interactive", "--exec", "./client {host} {port}", "--stdin", "--shape", "stream"),
		Entry("--tty with a stream client", "--tty does not go with --shape stream", "--exec", "./client {host} {port}", "--shape", "stream", "--tty"),
		Entry("a missing program", "cannot run the exec command: ./nonexistent-i13: no such file", "--exec", "./nonexistent-i13 {host} {port}"),
		Entry("a program not in PATH", "nonexistent-i13: command not found (not in PATH)", "--exec", "nonexistent-i13 {host} {port}"),
		Entry("a file that is not executable", "/etc/passwd: not executable", "--exec", "/etc/passwd {host} {port}"),
		Entry("a bad quote", "unterminated single quote", "--exec", "./client '{host} {port}"),
		Entry("a server check", `pattern "basic" matches no check (see echoconf list --client)`, "--exec", "true {host} {port}", "--select", "basic"),
		Entry("a target address", `unexpected argument "127.0.0.1:7"`, "--exec", "true {host} {port}", "127.0.0.1:7"),
		Entry("an unknown format", `unknown format "xml"`, "--exec", "true {host} {port}", "--format", "xml"),
		Entry("two reports to one file", "write the same file", "--exec", "true {host} {port}", "--report", "json=r.out", "--report", "tap=r.out"),
		Entry("--timeout-scale NaN", "--timeout-scale must be in (0, 1000], got NaN", "--exec", "true {host} {port}", "--timeout-scale", "NaN"),
		Entry("--repeat 0", "--repeat must be in 1..1000", "--exec", "true {host} {port}", "--repeat", "0"),
		Entry("--seed 0", "--seed must not be 0", "--exec", "true {host} {port}", "--seed", "0"),
		Entry("an unknown flag", "flag provided but not defined: -udp", "--exec", "true {host} {port}", "--udp"),
	)

	It("passes a correct argument client (exit 0), the shape taken from {message}", func() {
		cmd := galleryClient("arg-client")
		s := echoconf(time.Minute, "check-client", "--no-color", "--select", "client/sends-exact,client/prints-echo,client/reset", "--exec", cmd)
		Expect(s.ExitCode()).To(Equal(0), string(s.Out.Contents()))
		out := string(s.Out.Contents())
		Expect(out).To(HavePrefix("echoconf check-client " + cmd + " (argument client)\n"))
		Expect(out).To(MatchRegexp(`(?m)^PASS +client/sends-exact `))
		Expect(out).To(ContainSubstring("3 passed, 0 failed, 0 warned, 0 skipped, 0 errors (10 not selected)"))
		Expect(out).To(HaveSuffix("PASS: conformant\n"))
	})

	It("passes a correct stream client, large input included", func() {
		s := echoconf(2*time.Minute, "check-client", "--no-color", "--shape", "stream",
			"--select", "client/sends-exact,client/prints-echo,client/large-stream", "--exec", galleryClient("stream-client"))
		Expect(s.ExitCode()).To(Equal(0), string(s.Out.Contents()))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`(?m)^PASS +client/large-stream `))
	})

	It("fails a client that sends the NUL terminator (exit 1), with the diagnosis, and its replay line reproduces it", func() {
		s := echoconf(time.Minute, "check-client", "--no-color", "--select", "client/sends-exact,client/prints-echo", "--exec", galleryClient("sends-nul"))
		Expect(s.ExitCode()).To(Equal(1))
		out := string(s.Out.Contents())
		Expect(out).To(MatchRegexp(`(?m)^FAIL +client/sends-exact +\S+ +wrong-bytes \(extra\) at offset \d+`))
		Expect(out).To(MatchRegexp(`(?m)^PASS +client/prints-echo `))
		Expect(out).To(ContainSubstring("the client sent 1 NUL byte after the message"))
		Expect(out).To(MatchRegexp(`got from offset \d+:\n(.*\n)? +[0-9a-f]{8} .* 00 +\|[^|]*\.\|\n`), "the NUL shown in the hex window")
		m := replayRE.FindStringSubmatch(out)
		Expect(m).NotTo(BeNil(), out)
		Expect(m[1]).To(MatchRegexp(`^echoconf check-client --select client/sends-exact --seed \d+ --timeout-scale 1 --shape argument --exec '.*/sends-nul \{host\} \{message\} \{port\}'$`))

		replayed, code := runIn(GinkgoT().TempDir(), baseEnv(), time.Minute, "bash", "-c", m[1]+" --no-color")
		Expect(code).To(Equal(1), replayed)
		Expect(replayed).To(MatchRegexp(`(?m)^FAIL +client/sends-exact `))
		Expect(replayed).To(ContainSubstring("0 passed, 1 failed, 0 warned, 0 skipped, 0 errors (12 not selected)"))
	})

	It("fails a stream client that writes everything before it reads, with a deadlock", func() {
		s := echoconf(2*time.Minute, "check-client", "--no-color", "--shape", "stream", "--select", "client/large-stream",
			"--exec", galleryClient("write-all-first"))
		Expect(s.ExitCode()).To(Equal(1))
		out := string(s.Out.Contents())
		Expect(out).To(MatchRegexp(`(?m)^FAIL +client/large-stream +\S+ +deadlock: `))
		Expect(out).To(ContainSubstring("--shape stream --exec"))
	})

	It("fails a client that never connects on every check, and says so", func() {
		s := echoconf(time.Minute, "check-client", "--no-color", "--format", "json", "--select", "client/sends-exact,client/close-at-once,client/gives-up,client/no-spin",
			"--exec", "sh -c 'echo cannot connect >&2; exit 3' {host} {port}")
		Expect(s.ExitCode()).To(Equal(1))
		var doc struct {
			Client map[string]any
			Checks []struct {
				ID, Status string
				Failure    *struct{ Kind, Detail string }
			}
		}
		Expect(json.Unmarshal(s.Out.Contents(), &doc)).To(Succeed())
		Expect(doc.Client).To(Equal(map[string]any{"shape": "interactive", "tty": false}))
		statuses := map[string]string{}
		for _, c := range doc.Checks {
			statuses[c.ID] = c.Status
			if c.Failure != nil {
				Expect(c.Failure.Kind).To(Equal("refused"), c.ID)
				Expect(c.Failure.Detail).To(ContainSubstring("cannot connect"), c.ID)
			}
		}
		Expect(statuses).To(HaveKeyWithValue("client/sends-exact", "fail"))
		Expect(statuses).To(HaveKeyWithValue("client/close-at-once", "fail"), "an error exit without a connection proves nothing")
		Expect(statuses).To(HaveKeyWithValue("client/gives-up", "unjudged"))
		Expect(statuses).To(HaveKeyWithValue("client/no-spin", "unjudged"))
	})

	DescribeTable("passes the reference echo-client on the whole catalogue",
		func(mode string, extra ...string) {
			args := append([]string{"check-client", "--no-color", "--exec", echoClient() + " -mode " + mode + " {host}:{port}"}, extra...)
			s := echoconf(2*time.Minute, args...)
			Expect(s.ExitCode()).To(Equal(0), string(s.Out.Contents()))
			out := string(s.Out.Contents())
			Expect(out).To(HaveSuffix("PASS: conformant\n"))
			Expect(out).NotTo(MatchRegexp(`(?m)^(FAIL|WARN|UNJUDGED|ERROR) `))
		},
		Entry("in pipe mode, a stream client", "pipe", "--shape", "stream"),
		Entry("in interactive mode", "interactive"),
		Entry("in auto mode on a terminal, an interactive client (--stdin --tty)", "auto", "--stdin", "--tty"),
	)

	It("writes every format from one run, each read by its consumer's own tool", func() {
		dir := GinkgoT().TempDir()
		file := func(n string) string { return filepath.Join(dir, n) }
		cmd := galleryClient("spin-on-eof")
		s := echoconf(time.Minute, "check-client", "--no-color", "--select", "client/sends-exact,client/close-half,client/no-spin",
			"--format", "json", "--output", file("r.json"), "--report", "junit="+file("r.xml"), "--report", "tap="+file("r.tap"),
			"--report", "tap13="+file("r13.tap"), "--report", "html="+file("r.html"), "--report", "gradescope="+file("results.json"),
			"--report", "text="+file("r.txt"), "--exec", cmd)
		Expect(s.ExitCode()).To(Equal(1), string(s.Err.Contents()))
		read := func(n string) []byte {
			data, err := os.ReadFile(file(n))
			Expect(err).NotTo(HaveOccurred())
			return data
		}

		var doc struct {
			Verdict string
			Client  map[string]any
			Checks  []struct{ ID, Status, Replay string }
		}
		Expect(json.Unmarshal(read("r.json"), &doc)).To(Succeed())
		Expect(doc.Verdict).To(Equal("fail"))
		Expect(doc.Client).To(Equal(map[string]any{"shape": "argument", "tty": false}))
		statuses := map[string]string{}
		for _, c := range doc.Checks {
			statuses[c.ID] = c.Status
		}
		Expect(statuses).To(HaveKeyWithValue("client/sends-exact", "pass"))
		Expect(statuses).To(HaveKeyWithValue("client/close-half", "fail"))
		Expect(statuses).To(HaveKeyWithValue("client/no-spin", "warn"))

		for _, schema := range validate.JUnitSchemas {
			need(validate.XMLLint(schema, file("r.xml")))
		}
		totals, err := validate.TestResultsParser(file("r.xml"))
		need(err)
		Expect(totals.CaseStatus("client/close-half")).To(Equal("FAIL"))
		Expect(totals.CaseStatus("client/sends-exact")).To(Equal("PASS"))
		Expect(totals.CaseStatus("client/no-spin")).To(Equal("SKIP"), "a warning is no pass and fails no build")

		tap, err := validate.TAPParser(read("r.tap"))
		need(err)
		Expect(tap.Extra).To(BeEmpty())
		Expect(tap.Point("client/close-half").OK).To(BeFalse())
		Expect(tap.Point("client/close-half").Diag).To(HaveKeyWithValue("hint", ContainSubstring("exit with a non-zero status")))
		Expect(tap.Point("client/no-spin").Todo).To(HavePrefix("SHOULD requirement violated"))
		proved, err := validate.Prove(read("r13.tap"))
		if reason, ok := validate.Absent(err); ok {
			Skip(reason)
		}
		Expect(err).To(HaveOccurred())
		Expect(proved).To(ContainSubstring("Result: FAIL"))

		var gs struct {
			Score float64
			Tests []struct {
				Name     string
				MaxScore float64 `json:"max_score"`
			}
		}
		Expect(json.Unmarshal(read("results.json"), &gs)).To(Succeed())
		Expect(gs.Score).To(Equal(12.0+5), "sends-exact (12) and the warned no-spin (5) earn their points; close-half does not")
		Expect(gs.Tests).To(HaveLen(3))

		dom, err := validate.RunChromium("--dump-dom", "file://"+file("r.html"))
		need(err)
		Expect(string(dom)).To(ContainSubstring("The client does not work correctly with an RFC 862 echo server"))
		Expect(string(dom)).To(ContainSubstring("echoconf check-client --select client/close-half"))

		Expect(string(read("r.txt"))).To(HavePrefix("echoconf check-client " + cmd + " (argument client)\n"))
	})

	It("shows progress on stderr when it is a terminal, and the verdict at the end", func() {
		ptmx, tty, err := pty.Open()
		Expect(err).NotTo(HaveOccurred())
		defer ptmx.Close()
		cmd := exec.Command(echoconfBin, "check-client", "--format", "json", "--output", filepath.Join(GinkgoT().TempDir(), "r.json"),
			"--select", "client/sends-exact,client/exit-status", "--exec", galleryClient("arg-client"))
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
		Eventually(waited).WithTimeout(time.Minute).Should(Receive(&werr))
		Expect(werr).NotTo(HaveOccurred())
		Eventually(copied).WithTimeout(5 * time.Second).Should(Receive())
		Expect(seen.String()).To(ContainSubstring("[0/2] running client/"))
		Expect(seen.String()).To(MatchRegexp(`\[2/2\] PASS: conformant \(2 passed, 0 failed, 0 warned\) in [0-9.]+m?s`))
	})

	It("stops at SIGINT with exit 2, leaving no client running", func() {
		cmd := exec.Command(echoconfBin, "check-client", "--no-color", "--select", "client/gives-up",
			"--exec", galleryClient("no-timeout"))
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		bin := strings.Fields(cmd.Args[len(cmd.Args)-1])[0]
		Eventually(func() []string { return programRunning(bin) }).WithTimeout(10*time.Second).ShouldNot(BeEmpty(), "the client runs")
		s.Signal(os.Interrupt)
		Eventually(s).WithTimeout(20 * time.Second).Should(gexec.Exit(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("echoconf: check-client: interrupted"))
		Expect(programRunning(bin)).To(BeEmpty(), "nothing of the client is left")
	})
})
