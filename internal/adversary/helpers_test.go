package adversary_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/adversary"
)

// listen starts a server for the spec and closes it when the spec ends.
func listen(cfg adversary.Config) *adversary.Server {
	GinkgoHelper()
	s, err := adversary.Listen(cfg)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close)
	return s
}

// dial connects to s and closes the connection when the spec ends.
func dial(s *adversary.Server) *net.TCPConn {
	GinkgoHelper()
	c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = c.Close() }) // the spec may have closed it
	return c.(*net.TCPConn)
}

// readUntilEnd reads c until EOF, an error or the deadline d from now, and
// returns what it read, the size of each read and the error that ended it
// (nil for EOF).
func readUntilEnd(c net.Conn, d time.Duration) ([]byte, []int, error) {
	GinkgoHelper()
	Expect(c.SetReadDeadline(time.Now().Add(d))).To(Succeed())
	var got []byte
	var sizes []int
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			got = append(got, buf[:n]...)
			sizes = append(sizes, n)
		}
		if errors.Is(err, io.EOF) {
			return got, sizes, nil
		}
		if err != nil {
			return got, sizes, err
		}
	}
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// waitRecords waits, at most 10 s, for n connections of s to end.
func waitRecords(s *adversary.Server, n int) []adversary.Record {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs, err := s.Wait(ctx, n)
	Expect(err).NotTo(HaveOccurred())
	return recs
}

// firstDiff returns the first offset where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
