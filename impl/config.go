package impl

import (
	"fmt"
	"log"
	"time"
)

// Model selects how a Server runs each connection.
type Model string

const (
	// ModelGoroutine serves each connection on its own goroutine. It is the
	// default.
	ModelGoroutine Model = "goroutine"
	// ModelProcess serves each connection in a new OS process started from
	// the server's own executable, as the classic fork server does.
	ModelProcess Model = "process"
)

// Models lists every Model in the order the command line documents them.
func Models() []Model { return []Model{ModelGoroutine, ModelProcess} }

// ParseModel returns the Model named s, or an error naming the valid ones.
func ParseModel(s string) (Model, error) {
	for _, m := range Models() {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown model %q (want goroutine or process)", s)
}

// Defaults and limits of Config.
const (
	// DefaultAddr is where the server listens when Config.Addr is empty.
	DefaultAddr = "127.0.0.1:7007"
	// DefaultBufferSize is the per-connection echo buffer.
	DefaultBufferSize = 32 << 10
	// MinBufferSize and MaxBufferSize bound Config.BufferSize.
	MinBufferSize = 512
	MaxBufferSize = 4 << 20
	// DefaultShutdownTimeout is the drain time the echo-server command
	// grants connections in progress on SIGINT or SIGTERM.
	DefaultShutdownTimeout = 5 * time.Second
)

// Config configures a Server. The zero value is a valid configuration: the
// goroutine model on DefaultAddr with DefaultBufferSize, no connection
// limit, no idle timeout and no shutdown bound beyond the caller's context.
type Config struct {
	// Addr is the "host:port" ListenAndServe listens on (DefaultAddr if
	// empty). Serve ignores it.
	Addr string
	// Model is the concurrency model (ModelGoroutine if empty).
	Model Model
	// MaxConns bounds the connections served at once (0 = no bound). The
	// server does not accept beyond it, so further clients wait in the
	// kernel's accept queue until a connection ends.
	MaxConns int
	// IdleTimeout closes a connection when a read waits, or a write of one
	// buffer blocks, for longer than this (0 = never).
	IdleTimeout time.Duration
	// ShutdownTimeout bounds how long Shutdown lets connections in progress
	// finish before it closes them (0 = only the caller's context bounds it).
	ShutdownTimeout time.Duration
	// BufferSize is the size of each connection's echo buffer, taken from a
	// pool on the connection's first read (DefaultBufferSize if 0).
	BufferSize int
	// Splice echoes through a kernel pipe with splice(2), so the bytes never
	// enter user memory. The pipe (two descriptors) exists only while data
	// flows; an idle connection holds none. It costs a pipe per burst, so it
	// suits bulk traffic only; see docs/performance.md.
	Splice bool
	// ErrorLog receives accept errors and child-process failures (nil =
	// discarded). Client resets and timeouts are normal and never logged.
	ErrorLog *log.Logger
}

// normalize returns c with defaults applied, or an error describing the
// first invalid field.
func (c Config) normalize() (Config, error) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Model == "" {
		c.Model = ModelGoroutine
	}
	if _, err := ParseModel(string(c.Model)); err != nil {
		return c, err
	}
	if c.MaxConns < 0 {
		return c, fmt.Errorf("max conns %d is negative", c.MaxConns)
	}
	if c.IdleTimeout < 0 {
		return c, fmt.Errorf("idle timeout %v is negative", c.IdleTimeout)
	}
	if c.ShutdownTimeout < 0 {
		return c, fmt.Errorf("shutdown timeout %v is negative", c.ShutdownTimeout)
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.BufferSize < MinBufferSize || c.BufferSize > MaxBufferSize {
		return c, fmt.Errorf("buffer size %d is outside [%d, %d]", c.BufferSize, MinBufferSize, MaxBufferSize)
	}
	return c, nil
}
