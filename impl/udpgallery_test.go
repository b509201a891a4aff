package impl_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// udpProbeNames lists the probes in the order they are reported.
var udpProbeNames = []string{"sizes", "byte values", "two clients", "burst", "closed clients"}

// runProbe runs the named probe; the burst's figures go to GinkgoWriter.
func runProbe(p udpProbe, name, server string) error {
	switch name {
	case "sizes":
		return p.sizes()
	case "byte values":
		return p.byteValues()
	case "two clients":
		return p.twoClients()
	case "burst":
		res, err := p.burst()
		GinkgoWriter.Printf("%s burst: %v\n", server, res)
		return err
	case "closed clients":
		return p.closedClients()
	}
	return fmt.Errorf("no probe %q", name)
}

// udpGalleryServer is a C server of testdata/c/udp and the failure each
// probe must show (a regexp); a probe not listed must pass.
type udpGalleryServer struct {
	source string
	fails  map[string]string
	// exits says the process must be gone after the probe that kills it.
	exits string
}

var udpGallery = []udpGalleryServer{
	{source: "recvfrom-server.c"},
	{source: "recvmsg-server.c"},
	{source: "faulty/strlen.c", fails: map[string]string{
		"sizes":       `got \d+ back: cut at the NUL byte at offset \d+`,
		"byte values": `sent 256 bytes, got 0 back: cut at the NUL byte at offset 0`,
		"burst":       `a 0-byte reply: split or cut`,
	}},
	{source: "faulty/first-peer.c", fails: map[string]string{
		"two clients":    `client 2: no reply .*; client 1 got a datagram instead`,
		"burst":          `a reply that is no datagram this socket sent|lost after 3 tries`,
		"closed clients": `after 1 client\(s\) closed their port before the reply: no reply`,
	}},
	{source: "faulty/small-buffer.c", fails: map[string]string{
		"sizes": `sent 1472 bytes, got 512 back: the rest was cut`,
		"burst": `got 512 back: the rest was cut \(merged, split or altered\)`,
	}},
	{source: "faulty/connect-first.c", fails: map[string]string{
		"two clients":    `client 2: no reply to a \d+-byte datagram after 3 tries`,
		"burst":          `9[5-9]\d of 1000 datagrams lost after 3 tries`,
		"closed clients": `after 1 client\(s\) closed their port before the reply: no reply`,
	}},
	{source: "faulty/exit-on-error.c", exits: "closed clients", fails: map[string]string{
		"closed clients": `after 1 client\(s\) closed their port before the reply: no reply`,
	}},
	{source: "faulty/empty-ends.c", exits: "sizes", fails: map[string]string{
		"sizes": `^no reply to a 0-byte datagram after 3 tries`,
	}},
}

// galleryProcess is one running C server.
type galleryProcess struct {
	probe  udpProbe
	exited chan struct{}
}

// buildUDPGallery compiles every server of udpGallery into dir with the
// gallery's flags (warnings are errors), gcc in its own process group.
func buildUDPGallery(dir string) map[string]string {
	GinkgoHelper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		if os.Getenv("CI") == "true" {
			Fail(fmt.Sprintf("the C compiler %q is required under CI: %v", cc, err))
		}
		Skip(fmt.Sprintf("the C compiler %q is not installed: %v", cc, err))
	}
	bins := make(map[string]string)
	for _, s := range udpGallery {
		bin := filepath.Join(dir, strings.ReplaceAll(strings.TrimSuffix(s.source, ".c"), "/", "-"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, cc, "-Wall", "-Wextra", "-Werror", "-O2", "-o", bin, filepath.Join("..", "testdata", "c", "udp", s.source))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		out, err := cmd.CombinedOutput()
		cancel()
		Expect(err).NotTo(HaveOccurred(), "build %s: %s", s.source, out)
		bins[s.source] = bin
	}
	return bins
}

// startGalleryServer runs bin on a free port in its own process group,
// killed with it when the spec ends, and waits until its socket is bound.
func startGalleryServer(bin string) *galleryProcess {
	GinkgoHelper()
	free, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	Expect(err).NotTo(HaveOccurred())
	port := free.LocalAddr().(*net.UDPAddr).Port
	Expect(free.Close()).To(Succeed())
	cmd := exec.Command(bin, strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	gp := &galleryProcess{exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // its status is not what these tests judge
		close(gp.exited)
	}()
	DeferCleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		Eventually(gp.exited, ioTimeout).Should(BeClosed())
	})
	// UDP has no accept to wait for, and a datagram would make the waiter
	// the server's first client: wait until the port shows up as bound.
	Eventually(func() bool { return udpPortBound(port) }, 5*time.Second, 5*time.Millisecond).Should(BeTrue(), "%s binds port %d", bin, port)
	p, err := newUDPProbe(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	Expect(err).NotTo(HaveOccurred())
	gp.probe = p
	return gp
}

// udpPortBound reports whether /proc/net/udp lists a socket bound to
// 127.0.0.1 or the wildcard address on port.
func udpPortBound(port int) bool {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return false
	}
	defer f.Close()
	suffix := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && strings.HasSuffix(fields[1], suffix) &&
			(strings.HasPrefix(fields[1], "0100007F:") || strings.HasPrefix(fields[1], "00000000:")) {
			return true
		}
	}
	return false
}

var _ = Describe("the C gallery of UDP servers, probed", Ordered, func() {
	var bins map[string]string
	BeforeAll(func() {
		if _, err := os.Stat("/proc/net/udp"); err != nil {
			Skip("/proc/net/udp is needed to see when a UDP server has bound its port: " + err.Error())
		}
		dir, err := os.MkdirTemp("", "udp-gallery-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(os.RemoveAll, dir)
		bins = buildUDPGallery(dir)
	})

	for _, s := range udpGallery {
		title := s.source + " passes every probe"
		if len(s.fails) > 0 {
			title = s.source + " shows its fault, and only it"
		}
		It(title, func() {
			// A fresh process per probe, so each probe meets the server as
			// its first client; the probes run at once.
			procs := make(map[string]*galleryProcess)
			for _, name := range udpProbeNames {
				procs[name] = startGalleryServer(bins[s.source])
			}
			var mu sync.Mutex
			results := make(map[string]error)
			var wg sync.WaitGroup
			for _, name := range udpProbeNames {
				wg.Go(func() {
					err := runProbe(procs[name].probe, name, s.source)
					mu.Lock()
					results[name] = err
					mu.Unlock()
				})
			}
			wg.Wait()
			var report bytes.Buffer
			for _, name := range udpProbeNames {
				fmt.Fprintf(&report, "  %-15s %v\n", name, results[name])
			}
			GinkgoWriter.Printf("%s:\n%s", s.source, report.String())
			for _, name := range udpProbeNames {
				if want, ok := s.fails[name]; ok {
					Expect(results[name]).To(MatchError(MatchRegexp(want)), "probe %q must show the fault", name)
				} else {
					Expect(results[name]).NotTo(HaveOccurred(), "probe %q must pass (no false alarm)", name)
				}
			}
			if s.exits != "" {
				Eventually(procs[s.exits].exited, ioTimeout).Should(BeClosed(), "the server exited during %q", s.exits)
			}
		})
	}
})
