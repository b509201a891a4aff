package impl

import (
	"bytes"
	"errors"
	"sync"
)

// errSpoolClosed is returned by spool.push once the receiving side gave up.
var errSpoolClosed = errors.New("verify spool closed")

// spool holds the bytes sent but not yet echoed, for streaming
// verification in bounded memory. The sender pushes each chunk before it
// writes it to the connection, so an honest echo always finds its bytes
// here; push blocks while the spool is full, until echoes drain it.
type spool struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte // ring
	head   int    // index of the oldest byte
	n      int    // bytes held
	closed bool
}

func newSpool(size int) *spool {
	s := &spool{buf: make([]byte, size)}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// push appends p (len(p) <= capacity), waiting for room. It returns
// errSpoolClosed once close was called.
func (s *spool) push(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && len(s.buf)-s.n < len(p) {
		s.cond.Wait()
	}
	if s.closed {
		return errSpoolClosed
	}
	tail := (s.head + s.n) % len(s.buf)
	k := copy(s.buf[tail:], p)
	copy(s.buf, p[k:])
	s.n += len(p)
	return nil
}

// match consumes len(got) bytes and compares them with got. It returns the
// index in got of the first byte that differs, the byte expected there and
// ok=false; or, when got is longer than what was sent, the index of the
// first extra byte with extra=true.
func (s *spool) match(got []byte) (i int, want byte, extra, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.cond.Broadcast()
	for i < len(got) {
		if s.n == 0 {
			return i, 0, true, false
		}
		seg := s.buf[s.head:min(s.head+s.n, len(s.buf))] // contiguous held bytes
		k := min(len(seg), len(got)-i)
		if !bytes.Equal(seg[:k], got[i:i+k]) {
			for j := range k {
				if seg[j] != got[i+j] {
					return i + j, seg[j], false, false
				}
			}
		}
		s.head = (s.head + k) % len(s.buf)
		s.n -= k
		i += k
	}
	return 0, 0, false, true
}

// close wakes and fails any push, now and later.
func (s *spool) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cond.Broadcast()
}
