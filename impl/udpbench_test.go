package impl_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/echoconf/echoconf/impl"
)

// udpBenchPeer starts one UDP echo server for a benchmark and returns its
// address.
type udpBenchPeer struct {
	name  string
	start func(b *testing.B) string
}

var udpBenchPeers = []udpBenchPeer{
	{"reference", startReferenceForBench},
	{"c-recvfrom", startCForBench},
}

func startReferenceForBench(b *testing.B) string {
	b.Helper()
	srv, err := impl.NewUDPServer(impl.UDPConfig{})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(conn) }()
	b.Cleanup(func() {
		_ = srv.Close()
		<-served
	})
	return conn.LocalAddr().String()
}

// startCForBench builds and starts testdata/c/udp/recvfrom-server.c, the
// classic C loop, in its own process group.
func startCForBench(b *testing.B) string {
	b.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		b.Skipf("the C peer needs a C compiler: %v", err)
	}
	if _, err := os.Stat("/proc/net/udp"); err != nil {
		b.Skipf("/proc/net/udp is needed to see when the C peer has bound its port: %v", err)
	}
	bin := filepath.Join(b.TempDir(), "recvfrom-server")
	build := exec.Command(cc, "-O2", "-o", bin, filepath.Join("..", "testdata", "c", "udp", "recvfrom-server.c"))
	build.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	free, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	port := free.LocalAddr().(*net.UDPAddr).Port
	_ = free.Close()
	cmd := exec.Command(bin, strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	for i := 0; !udpPortBound(port); i++ {
		if i == 1000 {
			b.Fatalf("the C peer did not bind port %d within 5s", port)
		}
		time.Sleep(5 * time.Millisecond) // polling /proc: there is nothing to wait on
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// BenchmarkUDPEcho measures 64-byte round trips, one datagram in flight
// per client socket, 8 client sockets at once, against the reference
// server and the C recvfrom() loop in the same run. A lost datagram is
// sent again after 200ms. Compare the peers' datagrams/s.
func BenchmarkUDPEcho(b *testing.B) {
	for _, peer := range udpBenchPeers {
		b.Run(peer.name, func(b *testing.B) {
			addr, err := net.ResolveUDPAddr("udp", peer.start(b))
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.DialUDP("udp", nil, addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				msg, got := make([]byte, 64), make([]byte, 64<<10)
				for pb.Next() {
					if err := roundTrip(c, msg, got); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
		})
	}
}

// roundTrip sends msg on c until one datagram comes back, at most 50 tries.
func roundTrip(c *net.UDPConn, msg, got []byte) error {
	for range 50 {
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if err := c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
			return err
		}
		if _, err := c.Read(got); err == nil {
			return nil
		} else if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
	}
	return errors.New("no reply after 50 tries")
}
