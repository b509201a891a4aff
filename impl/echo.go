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
	// getBuf and putBuf lend the loop its buffer. The loop holds a buffer
	// only while it has data to echo: it returns it whenever a read would
	// block, so an idle connection holds none.
	getBuf func() *[]byte
	putBuf func(*[]byte)
}

// echo copies everything c receives back to c until the client half-closes,
// then closes c's write side (a FIN). It returns nil after a clean
// half-close and the read or write error otherwise; the caller closes c.
//
// The loop reads, then writes all it read before reading again, so a
// client that stops reading stops being read from (backpressure), and
// memory per connection is at most one buffer, none while idle.
func echo(c net.Conn, o echoOptions) error {
	rc, ok := rawConn(c)
	if !ok {
		return plainEcho(c, o)
	}
	if o.splice {
		return spliceEcho(c, rc, o)
	}
	var bp *[]byte
	defer func() {
		if bp != nil {
			o.putBuf(bp)
		}
	}()
	for {
		if err := armDeadline(c.SetReadDeadline, o.idle); err != nil {
			return err
		}
		var (
			n    int
			rerr error
		)
		// The read happens inside the poller's callback so that the buffer
		// is taken only when there is something to read and given back
		// when the socket is drained: no extra system call per message.
		err := rc.Read(func(fd uintptr) bool {
			if bp == nil {
				bp = o.getBuf()
			}
			for {
				n, rerr = unix.Read(int(fd), *bp)
				if rerr != unix.EINTR {
					break
				}
			}
			if rerr == unix.EAGAIN {
				o.putBuf(bp)
				bp = nil
				return false
			}
			return true
		})
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if rerr != nil {
			return fmt.Errorf("read: %w", rerr)
		}
		if n == 0 {
			return closeWrite(c)
		}
		if err := armDeadline(c.SetWriteDeadline, o.idle); err != nil {
			return err
		}
		if _, err := c.Write((*bp)[:n]); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
}

// plainEcho is echo for connections that are not sockets (tests' pipes).
func plainEcho(c net.Conn, o echoOptions) error {
	bp := o.getBuf()
	defer o.putBuf(bp)
	for {
		if err := armDeadline(c.SetReadDeadline, o.idle); err != nil {
			return err
		}
		n, rerr := c.Read(*bp)
		if n > 0 {
			if err := armDeadline(c.SetWriteDeadline, o.idle); err != nil {
				return err
			}
			if _, err := c.Write((*bp)[:n]); err != nil {
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

// armDeadline sets a deadline idle from now with set, if idle > 0.
func armDeadline(set func(time.Time) error, idle time.Duration) error {
	if idle <= 0 {
		return nil
	}
	if err := set(time.Now().Add(idle)); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	return nil
}

func rawConn(c net.Conn) (syscall.RawConn, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, false
	}
	return rc, true
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

// waitReadable blocks, honouring c's read deadline, until rc has data, an
// EOF or an error to report, without consuming anything.
func waitReadable(rc syscall.RawConn) error {
	var one [1]byte
	return rc.Read(func(fd uintptr) bool {
		for {
			_, _, err := unix.Recvfrom(int(fd), one[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return false // wait for the poller, then look again
			default:
				return true // data, EOF or an error: the next read reports it
			}
		}
	})
}
