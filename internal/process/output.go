package process

import (
	"errors"
	"io"
	"os"
	"sync"
)

// boundedOutput keeps the first limit bytes written to it and counts the
// rest, so a server that floods stdout cannot exhaust the runner's memory.
// It is safe for concurrent use.
type boundedOutput struct {
	mu        sync.Mutex
	buf       []byte
	limit     int
	truncated bool
}

// Write keeps what fits and discards the rest; it never fails, so the
// server writing to the pipe never blocks on a full buffer.
func (b *boundedOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.limit - len(b.buf)
	if room >= len(p) {
		b.buf = append(b.buf, p...)
	} else {
		if room > 0 {
			b.buf = append(b.buf, p[:room]...)
		}
		b.truncated = true
	}
	return len(p), nil
}

// note appends a runner annotation, within the bound.
func (b *boundedOutput) note(s string) {
	_, _ = b.Write([]byte(s))
}

func (b *boundedOutput) snapshot() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf), b.truncated
}

// drain copies r into out until EOF or until r is closed, then closes done.
// The buffer is fixed, so memory stays bounded however much r delivers.
func drain(r *os.File, out *boundedOutput, done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = out.Write(buf[:n])
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				out.note("\n[echoconf: reading server output: " + err.Error() + "]\n")
			}
			return
		}
	}
}
