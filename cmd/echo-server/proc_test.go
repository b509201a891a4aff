package main_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// startShell runs echo-server with args behind `sh -c "PREFIX; exec ..."`,
// so that PREFIX can set ulimits, in its own process group, killed with the
// group at cleanup. cred, if not nil, runs it as another user.
func startShell(prefix string, cred *syscall.Credential, bin string, args ...string) *gexec.Session {
	GinkgoHelper()
	script := prefix + ` && exec "$0" "$@"`
	cmd := exec.Command("bash", append([]string{"-c", script, bin}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		Eventually(s, ioTimeout).Should(gexec.Exit())
	})
	return s
}

// procField returns the number in field (e.g. "Threads", "VmRSS") of
// /proc/PID/status.
func procField(pid int, field string) int {
	GinkgoHelper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	Expect(err).NotTo(HaveOccurred())
	for line := range strings.SplitSeq(string(raw), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && name == field {
			n, err := strconv.Atoi(strings.Fields(value)[0])
			Expect(err).NotTo(HaveOccurred())
			return n
		}
	}
	Fail("no " + field + " in /proc/PID/status")
	return 0
}

// openFDs returns the number of descriptors pid has open.
func openFDs(pid int) int {
	GinkgoHelper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	Expect(err).NotTo(HaveOccurred())
	return len(ents)
}

// childrenOf returns the pids whose parent is pid.
func childrenOf(pid int) []int {
	GinkgoHelper()
	ents, err := os.ReadDir("/proc")
	Expect(err).NotTo(HaveOccurred())
	var kids []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue // gone
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at the last ')'.
		rest := string(raw[bytes.LastIndexByte(raw, ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, p)
		}
	}
	return kids
}

// clients connects n clients at once; each sends size bytes, reads their
// echo in full while it writes, and keeps its connection open. It returns
// the connections and the error of every client that failed.
func clients(addr string, n, size int) ([]*net.TCPConn, []error) {
	conns := make([]*net.TCPConn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, ioTimeout)
			if err != nil {
				errs[i] = err
				return
			}
			conns[i] = c.(*net.TCPConn)
			errs[i] = echoOnce(conns[i], bytes.Repeat([]byte{byte(i)}, size))
		})
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			DeferCleanup(func() { _ = c.Close() })
		}
	}
	var failed []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Errorf("client %d: %w", i, err))
		}
	}
	return conns, failed
}

// echoOnce writes msg on c while it reads it back, and checks the echo.
func echoOnce(c net.Conn, msg []byte) error {
	if err := c.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		return err
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		wrote <- err
	}()
	got := make([]byte, len(msg))
	_, rerr := io.ReadFull(c, got)
	if err := <-wrote; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("read: %w", rerr)
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo differs")
	}
	return c.SetDeadline(time.Time{})
}

func closeAll(conns []*net.TCPConn) {
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}
