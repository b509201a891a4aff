package spec

import (
	"context"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// sendFromDeafPort sends b to the server that conn reaches, from a socket
// that cannot receive the reply: it is connect()ed to another address, so
// the kernel answers the server's reply with ICMP port unreachable, as it
// would for a client that has gone, whatever the timing.
func sendFromDeafPort(ctx context.Context, conn net.Conn, b []byte) error {
	server, ok := conn.RemoteAddr().(*net.UDPAddr)
	if !ok {
		return fmt.Errorf("not a UDP connection: %v", conn.RemoteAddr())
	}
	// The discard port of the same loopback family: connect() on UDP only
	// sets the peer; nothing is sent to it.
	var d net.Dialer
	deaf, err := d.DialContext(ctx, "udp", net.JoinHostPort(server.IP.String(), "9"))
	if err != nil {
		return err
	}
	defer deaf.Close()
	var to unix.Sockaddr
	if ip4 := server.IP.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: server.Port}
		copy(sa.Addr[:], ip4)
		to = sa
	} else {
		sa := &unix.SockaddrInet6{Port: server.Port}
		copy(sa.Addr[:], server.IP.To16())
		to = sa
	}
	return control(deaf, func(fd int) error { return unix.Sendto(fd, b, 0, to) })
}
