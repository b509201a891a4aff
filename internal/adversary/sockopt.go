package adversary

import (
	"errors"
	"syscall"
)

// bufferSizes returns a net.ListenConfig.Control that sets SO_RCVBUF and
// SO_SNDBUF to size on the listening socket.
func bufferSizes(size int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = errors.Join(
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size),
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, size),
			)
		})
		return errors.Join(err, serr)
	}
}
