package impl_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/echoconf/echoconf/impl"
	"github.com/echoconf/echoconf/impl/echotest"
)

// benchModels are the peers compared in one run: the default buffer loop,
// the io.Copy (splice) variant, and the process model.
var benchModels = []model{
	{"goroutine", impl.Config{}},
	{"splice", impl.Config{Splice: true}},
	{"process", impl.Config{Model: impl.ModelProcess}},
}

// benchConn starts a server with cfg and returns a connection to it whose
// echo path is warmed up (the process model's child is running).
func benchConn(b *testing.B, cfg impl.Config) *net.TCPConn {
	b.Helper()
	srv := echotest.NewServerWith(cfg)
	b.Cleanup(func() { _ = srv.Close() })
	c, err := net.DialTimeout("tcp", srv.Addr, 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	if err := c.SetDeadline(time.Now().Add(5 * time.Minute)); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Write([]byte{1}); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		b.Fatal(err)
	}
	return c.(*net.TCPConn)
}

// BenchmarkEchoThroughput streams 64 KiB per operation through one
// connection, writing and reading at the same time. Compare the models'
// MB/s within one run.
func BenchmarkEchoThroughput(b *testing.B) {
	const chunk = 64 << 10
	for _, m := range benchModels {
		b.Run(m.name, func(b *testing.B) {
			c := benchConn(b, m.cfg)
			out := make([]byte, chunk)
			read := make(chan error, 1)
			b.SetBytes(chunk)
			b.ResetTimer()
			go func() {
				_, err := io.CopyN(io.Discard, c, int64(b.N)*chunk)
				read <- err
			}()
			for range b.N {
				if _, err := c.Write(out); err != nil {
					b.Error(err)
					break
				}
			}
			if err := <-read; err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkEchoSmallMessage measures the round trip of one 64-byte
// message, one at a time, on one connection.
func BenchmarkEchoSmallMessage(b *testing.B) {
	msg := make([]byte, 64)
	for _, m := range benchModels {
		b.Run(m.name, func(b *testing.B) {
			c := benchConn(b, m.cfg)
			got := make([]byte, len(msg))
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
