package spec_test

import (
	"fmt"
	"testing"

	"github.com/echoconf/echoconf/spec"
)

// BenchmarkEchoStreamFill measures payload generation, the writer's side of
// check and bench. The goal is at least 1 GB/s.
func BenchmarkEchoStreamFill(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			e := spec.NewEchoStream(1, 0, "client 1")
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			var off int64
			for b.Loop() {
				e.Fill(buf, off)
				off += int64(size)
			}
		})
	}
}

// BenchmarkEchoStreamVerify measures the reader's side: regenerate and
// compare. The goal is at least 1 GB/s.
func BenchmarkEchoStreamVerify(b *testing.B) {
	const span = 16 << 20 // echoes of 16 MiB of the stream, made once
	e := spec.NewEchoStream(1, 0, "client 1")
	echo := make([]byte, span)
	e.Fill(echo, 0)
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			scratch := make([]byte, size)
			b.SetBytes(int64(size))
			var off int64
			for b.Loop() {
				if f := e.Verify(echo[off:off+int64(size)], off, off+int64(size), scratch); f != nil {
					b.Fatal(f)
				}
				off = (off + int64(size)) % span
			}
		})
	}
}

func sizeName(n int) string { return fmt.Sprintf("%dKiB", n>>10) }
