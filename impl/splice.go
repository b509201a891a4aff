package impl

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// spliceChunk is the most one splice(2) call moves; it is the default
// capacity of a pipe.
const spliceChunk = 64 << 10

// spliceEcho echoes c through a kernel pipe with splice(2), so the bytes
// never enter user memory. The pipe exists only while data flows: it is
// made when the socket becomes readable and closed as soon as a read
// would block with the pipe empty, so an idle connection holds one
// descriptor and a closed one none.
func spliceEcho(c net.Conn, rc syscall.RawConn, o echoOptions) error {
	for {
		if err := armDeadline(c.SetReadDeadline, o.idle); err != nil {
			return err
		}
		if err := waitReadable(rc); err != nil {
			return fmt.Errorf("read: %w", err)
		}
		eof, err := spliceBurst(c, rc, o)
		if err != nil {
			return err
		}
		if eof {
			return closeWrite(c)
		}
	}
}

// spliceBurst moves data from the socket to the pipe and back until the
// socket has nothing more to read. It reports whether the client's FIN
// was reached.
func spliceBurst(c net.Conn, rc syscall.RawConn, o echoOptions) (eof bool, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return false, fmt.Errorf("splice: pipe: %w", err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	for {
		var (
			n    int64
			serr error
		)
		cerr := rc.Control(func(fd uintptr) {
			for {
				n, serr = unix.Splice(int(fd), nil, p[1], nil, spliceChunk, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
				if serr != unix.EINTR {
					return
				}
			}
		})
		if cerr != nil {
			return false, fmt.Errorf("read: %w", cerr)
		}
		if serr == unix.EAGAIN {
			return false, nil // drained: give the pipe back
		}
		if serr != nil {
			return false, fmt.Errorf("read: %w", serr)
		}
		if n == 0 {
			return true, nil
		}
		if err := armDeadline(c.SetWriteDeadline, o.idle); err != nil {
			return false, err
		}
		left := n
		werr := rc.Write(func(fd uintptr) bool {
			for left > 0 {
				m, err := unix.Splice(p[0], nil, int(fd), nil, int(left), unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
				switch {
				case err == unix.EINTR:
					continue
				case err == unix.EAGAIN:
					return false // the socket is full: wait for the poller
				case err != nil:
					serr = err
					return true
				}
				left -= m
			}
			return true
		})
		if werr != nil {
			return false, fmt.Errorf("write: %w", werr)
		}
		if serr != nil {
			return false, fmt.Errorf("write: %w", serr)
		}
	}
}
