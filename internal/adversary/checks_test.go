package adversary_test

import (
	"slices"
	"time"

	"github.com/echoconf/echoconf/internal/adversary"
)

// The client checks, as the gallery test judges them. The check engine
// for clients comes later (issue 13); this table is its prototype and the
// gallery's ground truth. Every check is judged on one run of the client
// against the adversary in one behaviour.

// Deadlines of the client checks. The echo run's limit is well past
// closeGrace, so the close that killing a client causes never passes for
// its own.
const (
	// closeGrace: a client MUST close its connection within this time
	// of the last echo byte (client/closes-connection).
	closeGrace = 3 * time.Second
	// giveUpDeadline: a client SHOULD give up on a silent server, with an
	// error, within this time (client/gives-up).
	giveUpDeadline = 10 * time.Second
	// largeStreamSize is what client/large-stream sends through a stream
	// client.
	largeStreamSize = 8 << 20
	// spinLimit: a client runnable (running or waiting for a CPU) more
	// than this share of the time after EOF spins (client/no-spin).
	spinLimit = 0.5
	// largeStall: an echo stalled this long in client/large-stream, the
	// client not reading, is a deadlock.
	largeStall = 5 * time.Second
)

// runSpec is one run of a client: the adversary's configuration and how
// long the client may take.
type runSpec struct {
	name  string
	cfg   adversary.Config
	limit time.Duration
	// idle, when set, ends the run sooner: when the client's stdout has
	// not grown for that long.
	idle   time.Duration
	large  bool // stdin is largeStreamSize random bytes
	sample bool // measure the client's CPU after the server's FIN
}

var runSpecs = []runSpec{
	{name: "echo", cfg: adversary.Config{Behaviour: adversary.Echo}, limit: 7 * time.Second},
	{name: "trickle", cfg: adversary.Config{Behaviour: adversary.Trickle, Pause: 20 * time.Millisecond}, limit: 8 * time.Second},
	{name: "delay", cfg: adversary.Config{Behaviour: adversary.Delay, Delay: 1500 * time.Millisecond}, limit: 9 * time.Second},
	// Pauses long enough that a client slowed by a busy machine still
	// meets the pieces one by one, short enough for a quick run.
	{name: "resplit", cfg: adversary.Config{Behaviour: adversary.Resplit, Pause: 50 * time.Millisecond}, limit: 7 * time.Second},
	{name: "close-at-once", cfg: adversary.Config{Behaviour: adversary.CloseAtOnce}, limit: 3 * time.Second},
	{name: "close-half", cfg: adversary.Config{Behaviour: adversary.CloseHalf}, limit: 3 * time.Second, sample: true},
	{name: "reset", cfg: adversary.Config{Behaviour: adversary.Reset}, limit: 3 * time.Second},
	{name: "silent", cfg: adversary.Config{Behaviour: adversary.Silent}, limit: giveUpDeadline},
	// Small server buffers, so that what the server side can hold is far
	// below largeStreamSize whatever the system's autotuning. A client
	// that stops reading stalls the echo; after largeStall the server
	// gives up writing (and drains the rest), so the run ends either way.
	// A slow machine slows the stream, but does not stop it: the run
	// ends when stdout stops growing, or at a minute.
	{name: "large", cfg: adversary.Config{Behaviour: adversary.Echo, BufferSize: 64 << 10, IOTimeout: largeStall}, limit: time.Minute, idle: largeStall + 2*time.Second, large: true},
}

// clientCheck is one client check: its ID, level, the run it is judged
// on, the shapes it applies to (nil: every shape) and its judge, which
// returns "" for a pass and the diagnosis otherwise.
type clientCheck struct {
	ID     string
	Level  string
	Run    string
	Shapes []string
	Judge  func(ex exchange, o outcome) string
}

func (c clientCheck) appliesTo(shape string) bool {
	return c.Shapes == nil || slices.Contains(c.Shapes, shape)
}

var clientChecks = []clientCheck{
	{ID: "client/sends-exact", Level: "MUST", Run: "echo", Judge: judgeSendsExact},
	{ID: "client/prints-echo", Level: "MUST", Run: "echo", Judge: judgePrints},
	{ID: "client/exit-status", Level: "MUST", Run: "echo", Judge: judgeExitZero},
	{ID: "client/closes-connection", Level: "MUST", Run: "echo", Judge: judgeCloses},
	{ID: "client/short-reads", Level: "MUST", Run: "trickle", Judge: judgePrints},
	{ID: "client/delayed-echo", Level: "MUST", Run: "delay", Judge: judgePrints},
	{ID: "client/resplit-echo", Level: "MUST", Run: "resplit", Judge: judgePrints},
	{ID: "client/close-at-once", Level: "MUST", Run: "close-at-once", Judge: judgeErrorExit},
	{ID: "client/close-half", Level: "MUST", Run: "close-half", Judge: judgeErrorExit},
	{ID: "client/reset", Level: "MUST", Run: "reset", Judge: judgeErrorExit},
	{ID: "client/gives-up", Level: "SHOULD", Run: "silent", Judge: judgeErrorExit},
	{ID: "client/no-spin", Level: "SHOULD", Run: "close-half", Judge: judgeNoSpin},
	{ID: "client/large-stream", Level: "MUST", Run: "large", Shapes: []string{shapeStream}, Judge: judgeLargeStream},
}
