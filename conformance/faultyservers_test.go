package conformance_test

import (
	"io"
	"net"
	"time"
)

// echoWithoutFIN echoes everything, but when the client half-closes it
// keeps its own side open (for up to a minute): a server that never sends
// its FIN.
func echoWithoutFIN(conn *net.TCPConn, quit <-chan struct{}) {
	conn.SetDeadline(time.Now().Add(time.Minute))
	if _, err := io.Copy(conn, conn); err != nil {
		return
	}
	select { // hold the connection open without reading
	case <-quit:
	case <-time.After(time.Minute):
	}
}
