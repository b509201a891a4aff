package gallery_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/gallery"
)

// freePort returns a port that was free a moment ago on 127.0.0.1.
func freePort() int {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startGroup starts argv in its own process group and arranges for the
// group to be killed and reaped when the spec ends.
func startGroup(argv ...string) *exec.Cmd {
	GinkgoHelper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		members, err := gallery.GroupMembers(cmd.Process.Pid)
		Expect(err).NotTo(HaveOccurred())
		Expect(members).To(BeEmpty(), "processes left in the group")
	})
	return cmd
}

// runClient runs the client with stdin in its own process group, bounded
// by a deadline, and returns its stdout, stderr and exit code.
func runClient(bin string, stdin []byte, args ...string) (stdout, stderr []byte, code int) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	Expect(ctx.Err()).NotTo(HaveOccurred(), "the client did not finish in time")
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.Bytes(), errOut.Bytes(), exit.ExitCode()
	}
	Expect(err).NotTo(HaveOccurred())
	return out.Bytes(), errOut.Bytes(), 0
}

// firstDiff returns the first offset where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

var _ = Describe("the C echo client against the classic C server", Ordered, func() {
	var client, addr string
	var port int

	BeforeAll(func(ctx SpecContext) {
		m, err := gallery.Load()
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		cp, _ := m.Client("echo-client")
		client, err = gallery.Build(ctx, cp, dir) // the package-level form: cp knows its Root
		Expect(err).NotTo(HaveOccurred())
		sp, _ := m.Server("echo-server")
		server, err := m.Build(ctx, sp, dir)
		Expect(err).NotTo(HaveOccurred())
		port = freePort()
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		startGroup(server, strconv.Itoa(port))
		Eventually(func() error {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
			}
			return err
		}).WithTimeout(5 * time.Second).WithPolling(20 * time.Millisecond).Should(Succeed())
	}, NodeTimeout(60*time.Second))

	It("streams 16 MiB through in pipe mode without deadlock, and exits 0 at the server's FIN", func() {
		in := make([]byte, 16<<20)
		_, _ = rand.Read(in)
		out, errOut, code := runClient(client, in, "127.0.0.1", strconv.Itoa(port))
		Expect(code).To(Equal(0), "stderr: %s", errOut)
		Expect(len(out)).To(Equal(len(in)))
		Expect(firstDiff(out, in)).To(Equal(-1), "the echo differs")
	})

	It("accepts HOST:PORT and echoes all 256 byte values", func() {
		in := make([]byte, 256)
		for i := range in {
			in[i] = byte(i)
		}
		out, _, code := runClient(client, in, addr)
		Expect(code).To(Equal(0))
		Expect(out).To(Equal(in))
	})

	It("sends nothing and exits 0 on empty input", func() {
		out, _, code := runClient(client, nil, addr)
		Expect(code).To(Equal(0))
		Expect(out).To(BeEmpty())
	})

	It("exits 1 with a one-line error when the server is unreachable", func() {
		_, errOut, code := runClient(client, nil, "127.0.0.1", strconv.Itoa(freePort()))
		Expect(code).To(Equal(1))
		Expect(string(errOut)).To(MatchRegexp(`^echo-client: connect .*refused\n$`))
	})

	It("exits 2 on bad usage", func() {
		_, errOut, code := runClient(client, nil)
		Expect(code).To(Equal(2))
		Expect(string(errOut)).To(HavePrefix("usage:"))
		_, _, code = runClient(client, nil, "no-port-here")
		Expect(code).To(Equal(2))
	})
})
