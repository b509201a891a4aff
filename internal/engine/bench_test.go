package engine_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/fakeserver"
)

// BenchmarkSuiteCorrectServer runs the whole catalogue against the
// reference server: the "correct local server in at most 3 s" figure.
func BenchmarkSuiteCorrectServer(b *testing.B) {
	srv := echotest.NewServer()
	defer srv.Close()
	for b.Loop() {
		rep, err := engine.Run(context.Background(), engine.Target{Addr: srv.Addr}, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Verdict() != engine.VerdictPass {
			b.Fatalf("the reference server failed: %v", rep.Counts())
		}
	}
}

// BenchmarkSuiteSilentServer runs the whole catalogue against a server
// that accepts and never answers: the "at most 60 s" figure. b.N is 1.
func BenchmarkSuiteSilentServer(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()
	for b.Loop() {
		rep, err := engine.Run(context.Background(), engine.Target{Addr: ln.Addr().String()}, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Verdict() != engine.VerdictFail {
			b.Fatal("a silent server passed")
		}
	}
}

// BenchmarkSuiteHoldingServer runs the whole catalogue, as grade does
// (ConfirmAlone), against a server that keeps what it reads until the
// client's EOF and then echoes it: the slowest kind of faulty server to
// grade, to compare with BenchmarkSuiteCorrectServer. b.N is 1.
func BenchmarkSuiteHoldingServer(b *testing.B) {
	srv, err := fakeserver.Start(func(c *net.TCPConn, _ <-chan struct{}) {
		all, _ := io.ReadAll(c)
		_, _ = c.Write(all)
	})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for b.Loop() {
		rep, err := engine.Run(context.Background(), engine.Target{Addr: srv.Addr}, engine.Options{ConfirmAlone: true})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Verdict() != engine.VerdictFail {
			b.Fatal("a store-and-forward server passed")
		}
	}
}

// BenchmarkPeerEcho1MiB is the peer measured in the same run: one raw
// 1 MiB full-duplex echo round trip through the reference server, so the
// suite's figures can be given as ratios.
func BenchmarkPeerEcho1MiB(b *testing.B) {
	srv := echotest.NewServer()
	defer srv.Close()
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	got := make([]byte, len(payload))
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		werr := make(chan error, 1)
		go func() { _, err := c.Write(payload); werr <- err }()
		if _, err := io.ReadFull(c, got); err != nil {
			b.Fatal(err)
		}
		if err := <-werr; err != nil {
			b.Fatal(err)
		}
		c.Close()
		if !bytes.Equal(got, payload) {
			b.Fatal("echo differs")
		}
	}
}
