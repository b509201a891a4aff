// Package stdio gives a command its standard output and error as writers
// whose failure is an error, never a death, and lets it stop its work when
// one of them breaks (echoconf ... | head).
//
// Why: Go kills a program that writes to a broken pipe on fd 1 or 2 with
// SIGPIPE, unless it asks for SIGPIPE with os/signal; but once it asks,
// every EPIPE, on any socket too, is delivered as the signal, so a server
// that closes a connection early looks like Ctrl-C. And signal.Ignore
// would pass SIGPIPE's "ignored" disposition to every program the command
// starts, changing how a student's server dies. A duplicate of fd 1 or 2
// is neither: a write to it on a broken pipe fails with EPIPE, and the
// command decides.
package stdio

import (
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Detach returns duplicates of the standard output and error (close-on-exec,
// so no child inherits them). A write to either on a broken pipe returns
// EPIPE instead of killing the process. When a descriptor cannot be
// duplicated (it is closed), the os file is returned as it is.
func Detach() (stdout, stderr *os.File) {
	return dup(os.Stdout, "/dev/stdout"), dup(os.Stderr, "/dev/stderr")
}

func dup(f *os.File, name string) *os.File {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return f
	}
	return os.NewFile(uintptr(fd), name)
}

// Broken is the cause a watched writer gives when a write to it failed.
type Broken struct {
	Name string // "stdout" or "stderr"
	Err  error
}

func (b *Broken) Error() string { return b.Name + " was closed or failed: " + b.Err.Error() }

func (b *Broken) Unwrap() error { return b.Err }

// Watch returns a writer that writes to w and, on the first write error,
// calls stop with a *Broken naming the stream. Later writes are still
// passed to w (and fail). stop is called at most once.
func Watch(w io.Writer, name string, stop func(error)) io.Writer {
	return &watched{w: w, name: name, stop: stop}
}

type watched struct {
	w    io.Writer
	name string
	stop func(error)
	once sync.Once
}

func (w *watched) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		w.once.Do(func() { w.stop(&Broken{Name: w.name, Err: err}) })
	}
	return n, err
}

// File returns the *os.File under a watched writer, or w itself when it is
// one, so callers can ask whether it is a terminal.
func File(w io.Writer) (*os.File, bool) {
	if ww, ok := w.(*watched); ok {
		w = ww.w
	}
	f, ok := w.(*os.File)
	return f, ok
}

// IsBroken reports whether err (a context cause, say) is a broken stream.
func IsBroken(err error) bool {
	var b *Broken
	return errors.As(err, &b)
}
