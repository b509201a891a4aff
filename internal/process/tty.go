package process

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/creack/pty"
)

// maxTyped bounds what typeOnTerminal types: all of it is written before
// the client reads, and a terminal holds about 4 KiB of typed input.
const maxTyped = 3 << 10

// typeOnTerminal opens a pseudo-terminal and types input on it, then ^D
// (end of file at the start of a line), for a client to read from the
// terminal end it returns. The terminal's echo of what was typed is read
// and discarded. stop closes both ends and returns once the discarding
// goroutine has.
func typeOnTerminal(input []byte) (tty *os.File, stop func(), err error) {
	if len(input) > maxTyped {
		return nil, nil, fmt.Errorf("%d bytes are too many to type on a terminal (at most %d)", len(input), maxTyped)
	}
	master, tty, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open a pty: %w", err)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, master) // ends when master is closed
	}()
	stop = func() {
		_ = tty.Close()
		_ = master.Close()
		<-drained
	}
	if _, err := master.Write(append(bytes.Clone(input), 4)); err != nil {
		stop()
		return nil, nil, fmt.Errorf("type on the pty: %w", err)
	}
	return tty, stop, nil
}
