package adversary

import (
	"errors"
	"fmt"
	"time"
)

// The defaults of Config's zero fields.
const (
	DefaultDelay       = 1500 * time.Millisecond
	DefaultPause       = 20 * time.Millisecond
	DefaultIOTimeout   = 5 * time.Second
	DefaultConnTimeout = 30 * time.Second
	DefaultMaxRecord   = 64 << 20
	DefaultMaxPieces   = 8
)

// DefaultPieces are Resplit's piece sizes when Config.Pieces is empty.
var DefaultPieces = []int{3, 1, 5, 2, 7}

// Config says how the server behaves. Zero fields take the defaults above.
type Config struct {
	// Behaviour is played on every connection.
	Behaviour Behaviour
	// Delay is how long Delay holds each chunk before writing it back.
	Delay time.Duration
	// Pause separates the pieces that Trickle and Resplit write.
	Pause time.Duration
	// Pieces are Resplit's piece sizes, used in turn across the whole
	// echo of a connection; each must be positive.
	Pieces []int
	// MaxPieces bounds how many pieces Trickle and Resplit cut from each
	// chunk they read: the rest of the chunk goes back in one write. So a
	// long line costs a few pauses, not one per byte, and a busy machine,
	// whose timers fire late, does not stretch the echo past a client's
	// own timeout.
	MaxPieces int
	// IOTimeout bounds every single write.
	IOTimeout time.Duration
	// ConnTimeout bounds a connection's life from accept: every read
	// ends by then, and a client that has not closed its side by then is
	// recorded as never having closed it (Record.ClientEnd is EndNone).
	ConnTimeout time.Duration
	// MaxRecord is how many received bytes a Record keeps; beyond it
	// only Record.ReceivedLen grows.
	MaxRecord int
	// BufferSize, when positive, sets SO_RCVBUF and SO_SNDBUF on the
	// listening socket, before any connection, so that every accepted
	// connection inherits them and how much data the server side can hold
	// does not grow with the system's autotuning (Linux doubles the
	// value for its bookkeeping).
	BufferSize int
}

func (c Config) withDefaults() (Config, error) {
	if c.Behaviour < 0 || int(c.Behaviour) >= len(behaviourNames) {
		return c, fmt.Errorf("adversary: unknown behaviour %d", int(c.Behaviour))
	}
	if c.Delay < 0 || c.Pause < 0 || c.IOTimeout < 0 || c.ConnTimeout < 0 || c.MaxRecord < 0 || c.BufferSize < 0 || c.MaxPieces < 0 {
		return c, errors.New("adversary: negative durations and sizes are not allowed")
	}
	if c.Delay == 0 {
		c.Delay = DefaultDelay
	}
	if c.Pause == 0 {
		c.Pause = DefaultPause
	}
	if len(c.Pieces) == 0 {
		c.Pieces = DefaultPieces
	}
	for _, p := range c.Pieces {
		if p <= 0 {
			return c, fmt.Errorf("adversary: piece size %d is not positive", p)
		}
	}
	if c.IOTimeout == 0 {
		c.IOTimeout = DefaultIOTimeout
	}
	if c.ConnTimeout == 0 {
		c.ConnTimeout = DefaultConnTimeout
	}
	if c.MaxRecord == 0 {
		c.MaxRecord = DefaultMaxRecord
	}
	if c.MaxPieces == 0 {
		c.MaxPieces = DefaultMaxPieces
	}
	return c, nil
}
