package impl

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// dualListenTries bounds the free ports ListenTCPAndUDP tries for port 0.
const dualListenTries = 32

// ListenTCPAndUDP listens on addr with TCP and with UDP on the same port,
// as inetd serves echo on port 7 for both. With port 0 it picks a port free
// for both: it takes a free TCP port and tries UDP on it, up to 32 ports.
// On error nothing is left open.
func ListenTCPAndUDP(addr string) (net.Listener, *net.UDPConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	if port != "" && port != "0" {
		return listenPair(addr)
	}
	var lastErr error
	for range dualListenTries {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, nil, err
		}
		p := ln.Addr().(*net.TCPAddr).Port
		conn, err := listenUDP(net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return ln, conn, nil
		}
		_ = ln.Close()
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, err
		}
		lastErr = err
	}
	return nil, nil, fmt.Errorf("no port free for both tcp and udp after %d tries: %w", dualListenTries, lastErr)
}

func listenPair(addr string) (net.Listener, *net.UDPConn, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	conn, err := listenUDP(addr)
	if err != nil {
		_ = ln.Close()
		return nil, nil, err
	}
	return ln, conn, nil
}

// listenUDP listens on the UDP address addr.
func listenUDP(addr string) (*net.UDPConn, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}
