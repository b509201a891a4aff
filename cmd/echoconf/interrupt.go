package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/echoconf/echoconf/internal/stdio"
)

// runContext is the context of one run: it ends on SIGINT or SIGTERM, or
// when a write to stdout or stderr fails (echoconf ... | head), and only
// then. It returns stdout and stderr wrapped to watch their writes.
//
// SIGPIPE is deliberately not asked for: once a program asks for it, an
// EPIPE on any socket (a server that closed early) is delivered as the
// signal. main gives run duplicates of fd 1 and 2 (stdio.Detach), on which
// a broken pipe is an error, not a death.
func runContext(stdout, stderr io.Writer) (ctx context.Context, out, errOut io.Writer, stop func()) {
	sctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(sctx)
	out = stdio.Watch(stdout, "stdout", cancel)
	errOut = stdio.Watch(stderr, "stderr", cancel)
	return ctx, out, errOut, func() { cancel(nil); stopSignals() }
}

// interruption says why ctx ended: a signal, or a broken stdout/stderr.
func interruption(ctx context.Context) string {
	if cause := context.Cause(ctx); stdio.IsBroken(cause) {
		return "stopped: " + cause.Error()
	}
	return "interrupted"
}
