package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("RunClient", func() {
	run := func(c ClientSpec) *ClientRun {
		GinkgoHelper()
		if c.Timeout == 0 {
			c.Timeout = 10 * time.Second
		}
		r, err := RunClient(context.Background(), c)
		Expect(err).NotTo(HaveOccurred())
		return r
	}

	It("fills in the placeholders as whole words", func() {
		r := run(ClientSpec{Command: `sh -c 'echo "$0|$1|$2"' {host} {message} {port}`, Host: "127.0.0.1", Port: "7007", Message: "hello"})
		Expect(string(r.Stdout)).To(Equal("127.0.0.1|hello|7007\n"))
		Expect(r.Exit).To(Equal("exit status 0"))
		Expect(r.ExitCode).To(BeZero())
	})

	It("feeds stdin and then closes it", func() {
		r := run(ClientSpec{Command: "cat", Stdin: []byte("line 1\nline 2\n")})
		Expect(string(r.Stdout)).To(Equal("line 1\nline 2\n"))
	})

	It("keeps stderr apart, with the exit status", func() {
		r := run(ClientSpec{Command: `sh -c 'echo out; echo oops >&2; exit 3'`})
		Expect(string(r.Stdout)).To(Equal("out\n"))
		Expect(string(r.Stderr)).To(Equal("oops\n"))
		Expect(r.ExitCode).To(Equal(3))
	})

	It("kills a client that outlives its timeout, and everything it started", func() {
		r := run(ClientSpec{Command: `sh -c 'sleep 60 & echo $!; wait'`, Timeout: 300 * time.Millisecond})
		Expect(r.TimedOut).To(BeTrue())
		Expect(r.ExitCode).To(Equal(-1))
		child, err := strconv.Atoi(strings.TrimSpace(string(r.Stdout)))
		Expect(err).NotTo(HaveOccurred())
		Expect(alive(child)).To(BeFalse(), "the background child is dead (gone, or a zombie awaiting its new parent)")
	})

	It("measures the CPU time a spinning client burns", func() {
		r := run(ClientSpec{Command: `sh -c 'while :; do :; done'`, Timeout: 500 * time.Millisecond})
		Expect(r.TimedOut).To(BeTrue())
		Expect(r.CPU).To(BeNumerically(">", 0))
	})

	It("bounds what it keeps of the output", func() {
		r := run(ClientSpec{Command: `sh -c 'head -c 100000 /dev/zero'`, OutputLimit: 1000})
		Expect(r.Stdout).To(HaveLen(1000))
		Expect(r.Truncated).To(BeTrue())
	})

	It("sets the client's limits before its first instruction, and starts it through Start", func() {
		started := 0
		r := run(ClientSpec{Command: `cat /proc/self/limits`, Limits: Limits{FDLimit: 77, ProcLimit: 999},
			Start: func(cmd *exec.Cmd) error { started++; return cmd.Start() }})
		Expect(string(r.Stdout)).To(MatchRegexp(`(?m)^Max open files\s+77\s+77\s`))
		Expect(string(r.Stdout)).To(MatchRegexp(`(?m)^Max processes\s+999\s+999\s`))
		Expect(started).To(Equal(1))
		r = run(ClientSpec{Command: `sh -c 'ulimit -n'`, Limits: Limits{CPULimit: time.Minute}})
		Expect(string(r.Stdout)).To(Equal(fmt.Sprintf("%d\n", DefaultFDLimit)), "another limit brings the default fd limit")
	})

	It("refuses a file that is no program when its limits are set, as execve does without them", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "client"), []byte("just text\n"), 0o755)).To(Succeed())
		for _, l := range []Limits{{}, {FDLimit: 64}} {
			_, err := RunClient(context.Background(), ClientSpec{Command: "./client {port}", Dir: dir, Timeout: 5 * time.Second, Limits: l})
			Expect(errors.Is(err, ErrProgram)).To(BeTrue(), "limits %+v: got %v", l, err)
			Expect(err).To(MatchError(ContainSubstring("exec format error")))
		}
	})

	It("types stdin on a terminal, then end of file", func() {
		r := run(ClientSpec{Command: `sh -c 'test -t 0 && echo tty; cat'`, Stdin: []byte("one\ntwo\n"), TTY: true})
		Expect(string(r.Stdout)).To(Equal("tty\none\ntwo\n"))
	})

	It("kills a client whose stdout stops growing, when Idle is set", func() {
		r := run(ClientSpec{Command: `sh -c 'echo start; sleep 30'`, Idle: 300 * time.Millisecond})
		Expect(r.TimedOut).To(BeTrue())
		Expect(r.Killed).To(ContainSubstring("stdout unchanged"))
		Expect(string(r.Stdout)).To(Equal("start\n"))
	})

	DescribeTable("refuses what it cannot run",
		func(c ClientSpec, want string) {
			_, err := RunClient(context.Background(), c)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("no timeout", ClientSpec{Command: "true"}, "no timeout"),
		Entry("a missing program", ClientSpec{Command: "/nonexistent/client", Timeout: time.Second}, "no such file"),
		Entry("a message that needs quoting", ClientSpec{Command: "echo {message}", Message: "a b", Timeout: time.Second}, "would need quoting"),
	)
})

// alive reports whether pid runs: it exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	st, ok := parseStat(b)
	return ok && st.state != 'Z'
}
