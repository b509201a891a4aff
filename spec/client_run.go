package spec

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/echoconf/echoconf/internal/adversary"
)

// The time limits and sizes of the client catalogue, at scale 1.
const (
	// clientCloseGrace: a client closes its connection within this time
	// of the last echo byte (client/closes-connection).
	clientCloseGrace = 3 * time.Second
	// clientGiveUp: a client gives up on a silent server within this time
	// (client/gives-up).
	clientGiveUp = 10 * time.Second
	// largeStreamSize is what client/large-stream sends through a stream
	// client.
	largeStreamSize = 8 << 20
	// largeStall: an echo stalled this long in client/large-stream, the
	// client not reading it, is a deadlock.
	largeStall = 5 * time.Second
	// spinShare: a client runnable (running or waiting for a CPU) more
	// than this share of the time after the server's FIN spins
	// (client/no-spin).
	spinShare = 0.5
)

// scenario is how echoconf's server treats the client in one check, and
// how long the client may take.
type scenario struct {
	cfg   adversary.Config
	limit time.Duration
	// idle, when set, ends the run when the client's stdout has not grown
	// for that long.
	idle time.Duration
	// large: stdin is largeStreamSize bytes (a stream client).
	large bool
	// sample: measure the client's CPU once the server has closed.
	sample bool
}

// The scenarios of the client checks.
var (
	scenarioEcho    = scenario{cfg: adversary.Config{Behaviour: adversary.Echo}, limit: 7 * time.Second}
	scenarioTrickle = scenario{cfg: adversary.Config{Behaviour: adversary.Trickle, Pause: 20 * time.Millisecond}, limit: 8 * time.Second}
	scenarioDelay   = scenario{cfg: adversary.Config{Behaviour: adversary.Delay, Delay: 1500 * time.Millisecond}, limit: 9 * time.Second}
	// Pauses long enough that a client slowed by a busy machine still
	// meets the pieces one by one.
	scenarioResplit     = scenario{cfg: adversary.Config{Behaviour: adversary.Resplit, Pause: 50 * time.Millisecond}, limit: 7 * time.Second}
	scenarioCloseAtOnce = scenario{cfg: adversary.Config{Behaviour: adversary.CloseAtOnce}, limit: 6 * time.Second}
	scenarioCloseHalf   = scenario{cfg: adversary.Config{Behaviour: adversary.CloseHalf}, limit: 6 * time.Second}
	scenarioSpin        = scenario{cfg: adversary.Config{Behaviour: adversary.CloseHalf}, limit: 6 * time.Second, sample: true}
	scenarioReset       = scenario{cfg: adversary.Config{Behaviour: adversary.Reset}, limit: 6 * time.Second}
	scenarioSilent      = scenario{cfg: adversary.Config{Behaviour: adversary.Silent}, limit: clientGiveUp}
	// Small server buffers, so that what the server side holds is far
	// below largeStreamSize whatever the system's autotuning: a client
	// that stops reading stalls the echo, and after largeStall the server
	// stops writing and only reads, so the run ends either way. A slow
	// machine slows the stream but does not stop it: the run ends when
	// stdout stops growing, or at a minute.
	scenarioLarge = scenario{cfg: adversary.Config{Behaviour: adversary.Echo, BufferSize: 64 << 10, IOTimeout: largeStall},
		limit: time.Minute, idle: largeStall + 2*time.Second, large: true}
)

// exchange is what a client is given, and what it must send and print.
type exchange struct {
	shape   Shape
	message string   // ShapeArgument's {message}
	stdin   []byte   // nil for ShapeArgument
	sent    []byte   // exactly what the client must send
	pieces  [][]byte // what must appear on stdout, in order (stream: the whole input)
}

// newExchange chooses the client's input for its shape, from the run's
// seed and the check's ID. The interactive lines get shorter, so that an
// echo printed from a stale buffer shows.
func newExchange(env *Env, id string, shape Shape, large bool) exchange {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	rng := rand.New(rand.NewPCG(env.Seed, h.Sum64()))
	hexOf := func(n int) string {
		b := make([]byte, (n+1)/2)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return hex.EncodeToString(b)[:n]
	}
	switch {
	case large:
		in := make([]byte, largeStreamSize)
		for i := 0; i < len(in); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < len(in); j++ {
				in[i+j] = byte(v >> (8 * j))
			}
		}
		return exchange{shape: shape, stdin: in, sent: in, pieces: [][]byte{in}}
	case shape == ShapeArgument:
		m := "echo" + hexOf(16)
		return exchange{shape: shape, message: m, sent: []byte(m), pieces: [][]byte{[]byte(m)}}
	case shape == ShapeInteractive:
		lines := [][]byte{[]byte(hexOf(40) + "\n"), []byte(hexOf(16) + "\n"), []byte(hexOf(6) + "\n")}
		var in []byte
		for _, l := range lines {
			in = append(in, l...)
		}
		return exchange{shape: shape, stdin: in, sent: in, pieces: lines}
	default:
		in := []byte(hexOf(30) + "\n" + hexOf(50) + "\n" + hexOf(7) + "\n")
		return exchange{shape: shape, stdin: in, sent: in, pieces: [][]byte{in}}
	}
}

// clientRun is what one run of the client showed.
type clientRun struct {
	out       *ClientOutput
	connected bool
	rec       adversary.Record
	// runnable and cpu are the shares of a CPU the client ran or waited
	// to run, and ran, after the server's FIN; -1 when not measured.
	runnable, cpu float64
}

// clientStartup bounds how long a client may take to connect, at scale 1:
// an interpreter or a virtual machine that starts slowly on a busy machine
// is not a fault. The scenario's limit counts from the connection.
const clientStartup = 10 * time.Second

// runScenario runs the client of env once against a fresh adversarial
// server playing sc, with ex as its input. The client is killed sc.limit
// (scaled) after it connected, or when it has not connected within
// clientStartup plus that limit.
func runScenario(ctx context.Context, env *Env, sc scenario, ex exchange) (*clientRun, error) {
	cfg := sc.cfg
	limit := env.Scaled(sc.limit)
	if cfg.IOTimeout > 0 {
		cfg.IOTimeout = env.Scaled(cfg.IOTimeout)
	}
	cfg.ConnTimeout = env.Scaled(clientStartup) + limit + env.Scaled(5*time.Second)
	srv, err := adversary.Listen(cfg)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	runCtx, stop := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop(nil)
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-srv.FirstAccept():
		case <-runCtx.Done():
			return
		}
		t := time.NewTimer(limit)
		defer t.Stop()
		select {
		case <-t.C:
			stop(fmt.Errorf("no exit within %v of its connection", limit))
		case <-runCtx.Done():
		}
	}()
	run := &clientRun{runnable: -1, cpu: -1}
	in := ClientInput{Message: ex.message, Stdin: ex.stdin, Limit: env.Scaled(clientStartup) + limit}
	if sc.idle > 0 {
		in.Idle = env.Scaled(sc.idle)
	}
	if sc.sample {
		in.Watch = func(pid int, exited <-chan struct{}) {
			run.runnable, run.cpu = sampleAfterClose(srv, pid, exited)
		}
	}
	out, err := env.Client.Run(runCtx, srv.Host(), srv.Port(), in)
	if err != nil {
		return nil, err
	}
	run.out = out
	if srv.Accepted() > 0 {
		// The client is gone, so its connection ends at once.
		wctx, cancel := context.WithTimeout(ctx, env.Scaled(5*time.Second))
		defer cancel()
		recs, err := srv.Wait(wctx, 1)
		if err != nil {
			return nil, fmt.Errorf("the client's connection did not end after it exited: %w", err)
		}
		run.connected, run.rec = true, recs[0]
	}
	return run, nil
}

// sampleAfterClose waits until the server has accepted the client, lets
// 200 ms pass for its behaviour to close the connection, and measures the
// client over the next second. A client that ends first
// measures 0; -1 means it could not be measured.
func sampleAfterClose(srv *adversary.Server, pid int, exited <-chan struct{}) (runnable, cpu float64) {
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-exited:
			return false
		case <-t.C:
			return true
		}
	}
	select {
	case <-srv.FirstAccept():
	case <-exited:
		return 0, 0
	}
	if !wait(200 * time.Millisecond) {
		return 0, 0
	}
	r1, c1, err1 := procTimes(pid)
	t1 := time.Now()
	if !wait(time.Second) {
		return 0, 0
	}
	r2, c2, err2 := procTimes(pid)
	wall := time.Since(t1)
	if errors.Join(err1, err2) != nil {
		return -1, -1
	}
	return float64(r2-r1) / float64(wall), float64(c2-c1) / float64(wall)
}
