//go:build !linux

package spec

import (
	"context"
	"errors"
	"net"
)

var errNoSockState = errors.New("the socket's kernel state is not readable on this system")

// unsentBytes is only implemented on Linux.
func unsentBytes(net.Conn) (int, error) { return 0, errNoSockState }

// finAcked is only implemented on Linux.
func finAcked(net.Conn) (bool, error) { return false, errNoSockState }

// sendWindow is only implemented on Linux.
func sendWindow(net.Conn) (int, error) { return 0, errNoSockState }

// unreadBytes is only implemented on Linux.
func unreadBytes(net.Conn) (int, error) { return 0, errNoSockState }

// peerQueues is only implemented on Linux.
func peerQueues(net.Conn) (tx, rx uint64, err error) { return 0, 0, errNoSockState }

// sendFromDeafPort sends b on conn and closes it at once, so that the
// reply most likely meets a closed port.
func sendFromDeafPort(_ context.Context, conn net.Conn, b []byte) error {
	_, err := conn.Write(b)
	return err
}
