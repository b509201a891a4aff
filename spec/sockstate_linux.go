package spec

import (
	"errors"
	"net"
	"syscall"

	"github.com/prometheus/procfs"
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
func peerQueues(conn net.Conn) (tx, rx uint64, err error) {
	local, lok := conn.LocalAddr().(*net.TCPAddr)
	remote, rok := conn.RemoteAddr().(*net.TCPAddr)
	if !lok || !rok {
		return 0, 0, errNoPeer
	}
	fs, err := procfs.NewFS(procfs.DefaultMountPoint)
	if err != nil {
		return 0, 0, err
	}
	for _, read := range []func() (procfs.NetTCP, error){fs.NetTCP, fs.NetTCP6} {
		socks, err := read()
		if err != nil {
			continue // no IPv6, or no such file: try the other
		}
		for _, s := range socks {
			// The server's socket is bound where conn connects, and
			// connected to where conn is bound.
			if s.LocalPort == uint64(remote.Port) && s.RemPort == uint64(local.Port) &&
				s.LocalAddr.Equal(remote.IP) && s.RemAddr.Equal(local.IP) {
				return s.TxQueue, s.RxQueue, nil
			}
		}
	}
	return 0, 0, errNoPeer
}
