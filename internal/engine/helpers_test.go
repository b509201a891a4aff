package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/fakeserver"
	"github.com/echoconf/echoconf/spec"
)

// fakeServer is an in-process TCP server on 127.0.0.1:0 whose handler
// decides how to misbehave.
type fakeServer = fakeserver.Server

// startFake serves handle until the current spec (or container) ends.
func startFake(handle func(net.Conn, <-chan struct{})) *fakeServer {
	GinkgoHelper()
	s, err := fakeserver.Start(func(c *net.TCPConn, quit <-chan struct{}) { handle(c, quit) })
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close)
	return s
}

// echoHandler echoes until EOF.
func echoHandler(c net.Conn, _ <-chan struct{}) { _, _ = io.Copy(c, c) }

// silentHandler accepts and never reads or writes, until the server closes.
func silentHandler(_ net.Conn, quit <-chan struct{}) { <-quit }

// floodHandler writes without end until the connection fails.
func floodHandler(c net.Conn, _ <-chan struct{}) {
	buf := bytes.Repeat([]byte("flood!"), 10000)
	for {
		_ = c.SetWriteDeadline(time.Now().Add(time.Minute))
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// refusedAddr returns an address nothing listens on.
func refusedAddr() string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	return addr
}

// echoOnce is the body of a small echo check: it sends msg and expects it
// back within a second (scaled), honouring ctx.
func echoOnce(ctx context.Context, env *spec.Env, msg []byte) error {
	c, err := env.Dial(ctx)
	if err != nil {
		return &spec.Failure{Kind: spec.KindRefused, Offset: -1, Ending: spec.EventRefused, Err: err}
	}
	defer c.Close()
	dl := time.Now().Add(env.Scaled(time.Second))
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = c.SetDeadline(dl)
	if _, err := c.Write(msg); err != nil {
		return &spec.Failure{Kind: spec.KindReset, Offset: -1, Err: err}
	}
	got := make([]byte, len(msg))
	if n, err := io.ReadFull(c, got); err != nil {
		return &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Sent: int64(len(msg)), Received: int64(n), Err: err}
	}
	if !bytes.Equal(got, msg) {
		return &spec.Failure{Kind: spec.KindWrongBytes, Offset: 0}
	}
	return nil
}

func echoCheck(id string) spec.Check {
	return spec.Check{ID: id, Requirement: "It echoes.", Timeout: 5 * time.Second,
		Run: func(ctx context.Context, env *spec.Env) error { return echoOnce(ctx, env, []byte("hello "+id)) }}
}

func errCheck(id string, level spec.Level, err error) spec.Check {
	return spec.Check{ID: id, Requirement: "It returns " + fmt.Sprint(err), Level: level, Measures: spec.KindHygiene, Timeout: time.Second,
		Run: func(context.Context, *spec.Env) error { return err }}
}

func ids(checks []spec.Check) []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.ID
	}
	return out
}

var errPlain = errors.New("the check broke")
