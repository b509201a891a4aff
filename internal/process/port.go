package process

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Ports for exec'd servers.
//
// A port that the kernel hands out with bind(":0") and that is then closed
// for the server to bind can be taken in between: by the local end of any
// outgoing connection on the machine (those come from the same ephemeral
// range), or by another runner's server that was handed the same number.
// A server that then cannot bind fails a grade it did not earn, and, when
// the taker listens, the readiness probe even connects to the wrong
// process. So a port is chosen:
//   - outside the kernel's ephemeral range (ip_local_port_range), where no
//     outgoing connection takes its local port;
//   - free of every socket: the probe binds it without SO_REUSEADDR, so a
//     port with connections in TIME_WAIT is refused too (a server without
//     SO_REUSEADDR could not bind it);
//   - reserved, for as long as the server runs, by an abstract unix
//     socket named after it, which every echoconf process on the machine
//     honours; the kernel releases it if the runner dies.
//
// A program that binds fixed ports in that range could still take one;
// nothing but the kernel's own allocator could prevent that.

// portFloor is the lowest port chosen when the range below the ephemeral
// one leaves room: the ports under it are the registered ports of common
// services.
const portFloor = 10000

// portAttempts bounds the random draws before falling back to bind(":0").
const portAttempts = 200

// ephemeralRange reads the kernel's range of local ports for outgoing
// connections; Linux's default when it cannot be read.
func ephemeralRange() (lo, hi int) {
	lo, hi = 32768, 60999
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	l, err1 := strconv.Atoi(f[0])
	h, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || l > h {
		return lo, hi
	}
	return l, h
}

// portSpans are the ranges of ports to choose from, [first, last] each,
// given the ephemeral range [lo, hi].
func portSpans(lo, hi int) [][2]int {
	floor := portFloor
	if lo-1-floor < 1000 {
		floor = 1024
	}
	var spans [][2]int
	if lo-1 >= floor {
		spans = append(spans, [2]int{floor, lo - 1})
	}
	if hi+1 <= 65535 {
		spans = append(spans, [2]int{max(hi+1, floor), 65535})
	}
	return spans
}

// drawPort returns a random port from spans, or 0 when they are empty.
func drawPort(spans [][2]int) int {
	n := 0
	for _, s := range spans {
		n += s[1] - s[0] + 1
	}
	if n <= 0 {
		return 0
	}
	i := rand.IntN(n)
	for _, s := range spans {
		if size := s[1] - s[0] + 1; i >= size {
			i -= size
			continue
		}
		return s[0] + i
	}
	return 0
}

// reservePort reserves a free port of network ("tcp" or "udp") on
// 127.0.0.1 for a server to bind, as the comment at the top of this file
// describes; release ends the reservation, once the server is gone. When
// no port outside the ephemeral range can be had, it falls back to one
// that bind(":0") hands out, unreserved.
func reservePort(network string) (port int, release func(), err error) {
	spans := portSpans(ephemeralRange())
	for range portAttempts {
		p := drawPort(spans)
		if p == 0 {
			break
		}
		r, err := net.Listen("unix", "@echoconf-port-"+network+"-"+strconv.Itoa(p))
		if err != nil {
			continue // another echoconf holds it
		}
		if probeFree(network, p) == nil {
			return p, func() { _ = r.Close() }, nil // closing a unix listener only frees its name
		}
		_ = r.Close()
	}
	p, err := kernelPort(network)
	return p, func() {}, err
}

// noReuseAddr clears SO_REUSEADDR, which Go sets on listeners.
func noReuseAddr(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
	}); err != nil {
		return err
	}
	return serr
}

// probeFree binds 127.0.0.1:port without SO_REUSEADDR and lets it go.
func probeFree(network string, port int) error {
	_, err := bindLocal(net.ListenConfig{Control: noReuseAddr}, network, port)
	return err
}

// kernelPort asks the kernel for a free port of network on 127.0.0.1 and
// releases it.
func kernelPort(network string) (int, error) {
	port, err := bindLocal(net.ListenConfig{}, network, 0)
	if err != nil {
		return 0, fmt.Errorf("choose a free port: %w", err)
	}
	return port, nil
}

// bindLocal binds 127.0.0.1:port of network ("tcp" or "udp") with lc and
// lets it go; it returns the port bound, the kernel's choice for port 0.
func bindLocal(lc net.ListenConfig, network string, port int) (int, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if network == "udp" {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return 0, err
		}
		return pc.LocalAddr().(*net.UDPAddr).Port, pc.Close()
	}
	l, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return 0, err
	}
	return l.Addr().(*net.TCPAddr).Port, l.Close()
}
