//go:build !linux

package spec

import (
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
