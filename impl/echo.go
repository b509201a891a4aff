package impl

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// echoOptions is what one connection's echo loop needs, in either model.
type echoOptions struct {
	idle   time.Duration
	splice bool
	// getBuf and putBuf lend the loop its buffer; getBuf is called once,
	// when the connection first has something to read.
	getBuf func() *[]byte
	putBuf func(*[]byte)
}

// echo copies everything c receives back to c until the client half-closes,
// then closes c's write side (a FIN). It returns nil after a clean
// half-close and the read or write error otherwise; the caller closes c.
//
// The loop reads, then writes all it read before reading again, so a
// client that stops reading stops being read from (backpressure), and
// memory per connection is one buffer.
func echo(c net.Conn, o echoOptions) error {
	if o.splice {
		if _, err := io.Copy(c, c); err != nil {
			return fmt.Errorf("splice: %w", err)
		}
		return closeWrite(c)
	}
	if o.idle > 0 {
		if err := c.SetReadDeadline(time.Now().Add(o.idle)); err != nil {
			return fmt.Errorf("set read deadline: %w", err)
		}
	}
	if err := waitReadable(c); err != nil {
		return fmt.Errorf("wait for first read: %w", err)
	}
	bp := o.getBuf()
	defer o.putBuf(bp)
	buf := *bp
	for {
		if o.idle > 0 {
			if err := c.SetReadDeadline(time.Now().Add(o.idle)); err != nil {
				return fmt.Errorf("set read deadline: %w", err)
			}
		}
		n, rerr := c.Read(buf)
		if n > 0 {
			if o.idle > 0 {
				if err := c.SetWriteDeadline(time.Now().Add(o.idle)); err != nil {
					return fmt.Errorf("set write deadline: %w", err)
				}
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		if errors.Is(rerr, io.EOF) {
			return closeWrite(c)
		}
		if rerr != nil {
			return fmt.Errorf("read: %w", rerr)
		}
	}
}

// closeWrite sends a FIN on c if it supports half-close. After the client's
// FIN nothing more can arrive, so the Close that follows never turns into
// an RST.
func closeWrite(c net.Conn) error {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		return nil
	}
	if err := cw.CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}
	return nil
}

// waitReadable blocks, honouring c's read deadline, until c has data, an
// EOF or an error to report, without consuming anything. It lets a
// connection that never sends hold no buffer. It returns nil at once for
// connections that are not sockets.
func waitReadable(c net.Conn) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var one [1]byte
	return rc.Read(func(fd uintptr) bool {
		for {
			_, _, err := unix.Recvfrom(int(fd), one[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN || err == unix.EWOULDBLOCK:
				return false // wait for the poller, then look again
			default:
				return true // data, EOF or an error: the next Read reports it
			}
		}
	})
}
