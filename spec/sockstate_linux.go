package spec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// errNoSockState reports that a connection's kernel state cannot be read.
var errNoSockState = errors.New("the socket's kernel state is not readable")

// control runs f on conn's file descriptor.
func control(conn net.Conn, f func(fd int) error) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return errNoSockState
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// unsentBytes returns how many bytes conn's send queue holds that the
// peer's kernel has not acknowledged (SIOCOUTQ).
func unsentBytes(conn net.Conn) (int, error) {
	var n int
	err := control(conn, func(fd int) error {
		var err error
		n, err = unix.IoctlGetInt(fd, unix.SIOCOUTQ)
		return err
	})
	return n, err
}

// finAcked reports whether conn's FIN has been acknowledged by the peer's
// kernel (the TCP state is FIN_WAIT2, or later).
func finAcked(conn net.Conn) (bool, error) {
	var state uint8
	err := control(conn, func(fd int) error {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return err
		}
		state = info.State
		return nil
	})
	// FIN_WAIT2 5, TIME_WAIT 6, CLOSE 7 (linux/tcp_states.h).
	return state == 5 || state == 6 || state == 7, err
}

// sendWindow returns the receive window the peer last advertised (0 also
// when the kernel is too old to report it).
func sendWindow(conn net.Conn) (int, error) {
	var w uint32
	err := control(conn, func(fd int) error {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return err
		}
		w = info.Snd_wnd
		return nil
	})
	return int(w), err
}

// unreadBytes returns how many received bytes wait in conn's receive
// queue (SIOCINQ).
func unreadBytes(conn net.Conn) (int, error) {
	var n int
	err := control(conn, func(fd int) error {
		var err error
		n, err = unix.IoctlGetInt(fd, unix.SIOCINQ)
		return err
	})
	return n, err
}

// errNoPeer reports that the other end of a connection is not a socket of
// this machine, or not one this process can see.
var errNoPeer = errors.New("the connection's other end is not a socket of this machine")

// peerQueues finds the other end of conn among this machine's TCP sockets
// (/proc/net/tcp, then tcp6, where a dual-stack server's sockets are): it
// is there when the server runs here, in this network namespace, as in exec
// mode or on a loopback address. It returns that socket's send queue (bytes
// its program wrote that conn has not acknowledged) and receive queue
// (bytes it received that its program has not read; for a connection
// waiting in the listen backlog, everything the client sent).
//
// The tables are scanned for the one line, not parsed whole (as
// github.com/prometheus/procfs does): they hold a line per socket, tens of
// thousands on a busy grader, and a check must stay prompt.
func peerQueues(conn net.Conn) (tx, rx uint64, err error) {
	local, lok := conn.LocalAddr().(*net.TCPAddr)
	remote, rok := conn.RemoteAddr().(*net.TCPAddr)
	if !lok || !rok {
		return 0, 0, errNoPeer
	}
	tables := []struct {
		path string
		hex  func(net.IP) (string, bool)
	}{{"/proc/net/tcp", hexIPv4}, {"/proc/net/tcp6", hexIPv6}}
	for _, t := range tables {
		// The server's socket is bound where conn connects, and
		// connected to where conn is bound.
		l, lok := t.hex(remote.IP)
		r, rok := t.hex(local.IP)
		if !lok || !rok {
			continue
		}
		tx, rx, found, err := scanTCPTable(t.path, fmt.Sprintf("%s:%04X", l, remote.Port), fmt.Sprintf("%s:%04X", r, local.Port))
		if err == nil && found {
			return tx, rx, nil
		}
	}
	return 0, 0, errNoPeer
}

// scanTCPTable returns the queues of the socket whose local and remote
// addresses are as the table writes them ("0100007F:1F90").
func scanTCPTable(path, local, remote string) (tx, rx uint64, found bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	key := []byte(local + " " + remote)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, key) {
			continue
		}
		// sl local_address rem_address st tx_queue:rx_queue ...
		fields := bytes.Fields(line)
		if len(fields) < 5 || string(fields[1]) != local || string(fields[2]) != remote {
			continue
		}
		txs, rxs, ok := bytes.Cut(fields[4], []byte(":"))
		if !ok {
			return 0, 0, false, fmt.Errorf("%s: malformed queues %q", path, fields[4])
		}
		if tx, err = strconv.ParseUint(string(txs), 16, 64); err != nil {
			return 0, 0, false, fmt.Errorf("%s: %w", path, err)
		}
		if rx, err = strconv.ParseUint(string(rxs), 16, 64); err != nil {
			return 0, 0, false, fmt.Errorf("%s: %w", path, err)
		}
		return tx, rx, true, nil
	}
	return 0, 0, false, sc.Err()
}

// hexIPv4 writes an IPv4 address as /proc/net/tcp does: its four bytes
// read as one native-endian word.
func hexIPv4(ip net.IP) (string, bool) {
	ip4 := ip.To4()
	if ip4 == nil {
		return "", false
	}
	return fmt.Sprintf("%08X", binary.NativeEndian.Uint32(ip4)), true
}

// hexIPv6 writes an address as /proc/net/tcp6 does: four native-endian
// words; an IPv4 address as its IPv4-mapped form.
func hexIPv6(ip net.IP) (string, bool) {
	ip16 := ip.To16()
	if ip16 == nil {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < 16; i += 4 {
		fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(ip16[i:i+4]))
	}
	return b.String(), true
}
