// Package bench is the load generator of `echoconf bench`: it drives an
// echo server with one of four loads, verifies every echoed byte against
// the payloads of package spec, and measures throughput, latency, its own
// CPU use and, given the server's pid, the server's memory and descriptors.
//
// A corrupted echo ends the run with a *spec.Failure, the same diagnosis
// `echoconf check` gives. Figures are only comparable between runs made in
// the same CPU condition (see CPUCondition): never divide one by another
// from a different condition.
package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/echoconf/echoconf/spec"
)

// Mode is a kind of load.
type Mode string

// The loads.
const (
	// ModeStream writes and reads at the same time on each connection, as
	// fast as the server echoes.
	ModeStream Mode = "stream"
	// ModePingPong sends a message and waits for its echo, with up to Depth
	// messages in flight per connection.
	ModePingPong Mode = "pingpong"
	// ModeConnRate connects, echoes one message, half-closes, waits for the
	// server's FIN and closes, as fast as it can, on Conns workers.
	ModeConnRate Mode = "connrate"
	// ModeIdle opens Conns connections, echoes Size bytes on each (so that
	// the server's figures hold after traffic), holds them idle for
	// Duration, measures the server, then checks that each still echoes and
	// closes cleanly.
	ModeIdle Mode = "idle"
)

// Modes lists the modes in the order the command line documents them.
func Modes() []Mode { return []Mode{ModeStream, ModePingPong, ModeConnRate, ModeIdle} }

// CPUCondition says whether the machine's CPUs could sleep between
// messages. Latency-bound loads (one connection's ping-pong) mostly measure
// the CPU's wake-up latency when it may sleep.
type CPUCondition string

const (
	// CPUIdle: nothing kept a CPU awake; the CPUs slept when idle.
	CPUIdle CPUCondition = "idle"
	// CPUAwake: a thread of the bench spun for the whole run, keeping one
	// CPU awake (Config.Awake). Its CPU time is not counted as the bench's.
	CPUAwake CPUCondition = "awake"
)

// Config describes one run. Zero fields take the defaults of Defaults.
type Config struct {
	Addr     string // the server's HOST:PORT
	Mode     Mode
	Conns    int           // connections (stream, pingpong, idle) or workers (connrate)
	Size     int           // bytes per write (stream) or per message (pingpong, connrate, idle)
	Depth    int           // pingpong: messages in flight per connection
	Duration time.Duration // measured time (idle: how long connections are held)
	Warmup   time.Duration // load before measuring, not counted
	Seed     uint64        // payload seed (nonzero)
	// Timeout bounds every wait for progress: a connect, a write, an echo.
	Timeout time.Duration
	// Awake keeps one CPU busy with a spinning thread for the whole run.
	Awake bool
	// ServerPID, if not 0, is the server whose RSS and descriptors (with
	// those of its descendants) idle mode reports.
	ServerPID int
	// Progress, if not nil, is called about once a second while measuring.
	Progress func(Progress)
}

// Progress is a live view of a run.
type Progress struct {
	Mode     Mode
	Elapsed  time.Duration // of the measured period
	Duration time.Duration
	Bytes    int64 // verified echo bytes so far
	Messages int64 // messages (pingpong), connections (connrate, idle)
}

// Defaults returns cfg with every zero field set to its default for the mode.
func Defaults(cfg Config) Config {
	if cfg.Mode == "" {
		cfg.Mode = ModeStream
	}
	if cfg.Conns == 0 {
		cfg.Conns = 1
		if cfg.Mode == ModeIdle {
			cfg.Conns = 1000
		}
	}
	if cfg.Size == 0 {
		switch cfg.Mode {
		case ModeStream:
			cfg.Size = 64 << 10
		case ModePingPong:
			cfg.Size = 1 << 10
		case ModeConnRate:
			cfg.Size = 64
		case ModeIdle:
			cfg.Size = DefaultIdleSize
		}
	}
	if cfg.Depth == 0 {
		cfg.Depth = 1
	}
	if cfg.Duration == 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Warmup == 0 && cfg.Mode != ModeIdle {
		cfg.Warmup = time.Second
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	return cfg
}

// Limits of Config.
const (
	MaxConns        = 100_000
	MaxSize         = 4 << 20
	MaxInFlight     = 4 << 20 // pingpong: Size*Depth
	defaultIdleSize = 32 << 10
)

// DefaultIdleSize is the echo each idle connection makes first when Size is
// not given: enough to fill a 32 KiB server buffer, so that the figure
// holds after traffic.
const DefaultIdleSize = defaultIdleSize

// Validate reports the first invalid field of cfg (after Defaults).
func (cfg Config) Validate() error {
	known := false
	for _, m := range Modes() {
		known = known || m == cfg.Mode
	}
	switch {
	case !known:
		return fmt.Errorf("unknown mode %q (want stream, pingpong, connrate or idle)", cfg.Mode)
	case cfg.Addr == "":
		return errors.New("no server address")
	case cfg.Conns < 1 || cfg.Conns > MaxConns:
		return fmt.Errorf("connections %d outside [1, %d]", cfg.Conns, MaxConns)
	case cfg.Size < 1 || cfg.Size > MaxSize:
		return fmt.Errorf("size %d outside [1, %d]", cfg.Size, MaxSize)
	case cfg.Depth < 1 || int64(cfg.Depth)*int64(cfg.Size) > MaxInFlight:
		return fmt.Errorf("depth %d: size × depth must be in [1, %d] bytes", cfg.Depth, MaxInFlight)
	case cfg.Duration <= 0 || cfg.Warmup < 0 || cfg.Timeout <= 0:
		return errors.New("durations must be positive")
	case cfg.Seed == 0:
		return errors.New("seed must not be 0")
	}
	return nil
}

// Run drives the server at cfg.Addr with cfg's load and returns the
// figures. It returns a *spec.Failure (through errors.As) if the server
// echoed wrong bytes, reset or closed a connection, or stopped making
// progress for cfg.Timeout; ctx's error if ctx ended first.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = Defaults(cfg)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("address %q: %w", cfg.Addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &Result{Mode: cfg.Mode, Conns: cfg.Conns, Size: cfg.Size, Depth: cfg.Depth, CPUCondition: CPUIdle}
	if cfg.Awake {
		r.CPUCondition = CPUAwake
		stop := spin()
		defer stop()
	}
	var err error
	switch cfg.Mode {
	case ModeStream:
		err = runStream(ctx, cfg, r)
	case ModePingPong:
		err = runPingPong(ctx, cfg, r)
	case ModeConnRate:
		err = runConnRate(ctx, cfg, r)
	case ModeIdle:
		err = runIdle(ctx, cfg, r)
	}
	if err != nil {
		if ctx.Err() != nil && !isFailure(err) {
			return nil, ctx.Err()
		}
		return nil, err
	}
	r.finish()
	return r, nil
}

func isFailure(err error) bool {
	var f *spec.Failure
	return errors.As(err, &f)
}
