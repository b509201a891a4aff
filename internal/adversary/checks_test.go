package adversary_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
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
	// spinLimit: above this share of one CPU after EOF, a client spins
	// (client/no-spin).
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

func runSpecNamed(name string) runSpec {
	for _, r := range runSpecs {
		if r.name == name {
			return r
		}
	}
	panic("no run " + name)
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

// exchange is what the client is given and must send back and print.
type exchange struct {
	message string   // the argument shape's {message}
	stdin   []byte   // what the client reads on stdin (nil for the argument shape)
	sent    []byte   // exactly what the client must send
	pieces  [][]byte // what must appear on stdout in order (stream: the whole input)
}

// randomHex returns n random lower-case hex digits.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// newExchange chooses the client's input for its shape. The lines of the
// interactive shape get shorter, so that an echo printed from a stale
// buffer shows; a large run sends largeStreamSize random bytes.
func newExchange(shape string, large bool) exchange {
	switch {
	case large:
		in := make([]byte, largeStreamSize)
		_, _ = rand.Read(in)
		return exchange{stdin: in, sent: in, pieces: [][]byte{in}}
	case shape == shapeArgument:
		m := "echo" + randomHex(16)
		return exchange{message: m, sent: []byte(m), pieces: [][]byte{[]byte(m)}}
	case shape == shapeInteractive:
		lines := [][]byte{[]byte(randomHex(40) + "\n"), []byte(randomHex(16) + "\n"), []byte(randomHex(6) + "\n")}
		in := bytes.Join(lines, nil)
		return exchange{stdin: in, sent: in, pieces: lines}
	default:
		in := []byte(randomHex(30) + "\n" + randomHex(50) + "\n" + randomHex(7) + "\n")
		return exchange{stdin: in, sent: in, pieces: [][]byte{in}}
	}
}

// outcome is what one run of a client showed.
type outcome struct {
	run            string
	stdout, stderr []byte
	exited         bool // on its own, before the run's limit; false: killed at the limit
	code           int  // exit status; -1 when a signal ended it
	elapsed        time.Duration
	connected      bool
	rec            adversary.Record
	runnable       float64 // share of a CPU the client ran or waited to run, after the server's FIN; -1: not measured
	cpu            float64 // share of a CPU it used (utime+stime) in the same window; -1: not measured
	leftovers      bool    // its process group still had members after it was reaped
	err            error   // the runner's own failure
}

func judgeSendsExact(ex exchange, o outcome) string {
	if !o.connected {
		return "the client never connected"
	}
	got := o.rec.Received
	if bytes.Equal(got, ex.sent) {
		return ""
	}
	i := firstDiff(got, ex.sent)
	return fmt.Sprintf("sent %d bytes, want %d; they differ from byte %d: got %q, want %q",
		o.rec.ReceivedLen, len(ex.sent), i, window(got, i), window(ex.sent, i))
}

// window returns up to 16 bytes of b from i.
func window(b []byte, i int) []byte { return b[min(i, len(b)):min(i+16, len(b))] }

// judgePrints: the expected pieces appear on stdout, exactly and in order.
// A stream client prints the echo and nothing else. Other clients may
// decorate it ("Received: "), but the decoration must be text and must
// not hold bytes of the messages (an echo printed twice, or from a stale
// buffer), and an argument client's echo must end its line.
func judgePrints(ex exchange, o outcome) string {
	out := o.stdout
	if len(ex.pieces) == 1 && ex.message == "" { // the stream shape
		if bytes.Equal(out, ex.pieces[0]) {
			return ""
		}
		i := firstDiff(out, ex.pieces[0])
		return fmt.Sprintf("stdout differs from the echo from byte %d (%d bytes, want %d): got %q, want %q",
			i, len(out), len(ex.pieces[0]), window(out, i), window(ex.pieces[0], i))
	}
	var decoration [][]byte
	pos := 0
	for k, p := range ex.pieces {
		j := bytes.Index(out[pos:], p)
		if j < 0 {
			return fmt.Sprintf("the echo of message %d (%q) is not on stdout, whole or in order: stdout is %q", k+1, p, clip(out))
		}
		decoration = append(decoration, out[pos:pos+j])
		pos += j + len(p)
		if ex.message != "" {
			rest := out[pos:]
			if len(rest) > 0 && !bytes.HasPrefix(rest, []byte("\n")) && !bytes.HasPrefix(rest, []byte("\r\n")) {
				return fmt.Sprintf("bytes after the echo on its line: %q", clip(rest))
			}
		}
	}
	decoration = append(decoration, out[pos:])
	for _, d := range decoration {
		for _, c := range d {
			if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' {
				return fmt.Sprintf("non-text bytes around the echo: %q", clip(d))
			}
		}
		if f := messageFragment(d, ex.pieces); f != nil {
			return fmt.Sprintf("bytes of the messages outside their echo (a stale buffer or a repeated echo): %q in %q", f, clip(d))
		}
	}
	return ""
}

// messageFragment returns a 6-byte piece of d that is also in one of the
// messages (newlines aside), or nil.
func messageFragment(d []byte, msgs [][]byte) []byte {
	const n = 6
	for i := 0; i+n <= len(d); i++ {
		f := d[i : i+n]
		if bytes.ContainsAny(f, "\r\n") {
			continue
		}
		for _, m := range msgs {
			if bytes.Contains(m, f) {
				return f
			}
		}
	}
	return nil
}

func clip(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

func judgeExitZero(_ exchange, o outcome) string {
	switch {
	case !o.exited:
		return fmt.Sprintf("still running after %v: killed", o.elapsed.Round(time.Millisecond))
	case o.code != 0:
		return fmt.Sprintf("exit status %d after a good exchange; stderr: %q", o.code, clip(o.stderr))
	}
	return ""
}

func judgeCloses(_ exchange, o outcome) string {
	r := o.rec
	switch {
	case !o.connected:
		return "the client never connected"
	case !r.ClientClosed():
		return "did not close its connection"
	case r.ClientEndAt > r.LastWriteAt+closeGrace:
		return fmt.Sprintf("closed its connection %v after the last echo byte (at most %v)", (r.ClientEndAt - r.LastWriteAt).Round(time.Millisecond), closeGrace)
	}
	return ""
}

// judgeErrorExit: the client exits on its own, with a non-zero status
// and a message on stderr.
func judgeErrorExit(_ exchange, o outcome) string {
	switch {
	case !o.exited:
		return fmt.Sprintf("still running after %v: killed", o.elapsed.Round(time.Millisecond))
	case o.code == 0:
		return fmt.Sprintf("exit status 0; stderr: %q", clip(o.stderr))
	case o.code < 0:
		return "killed by a signal"
	case len(bytes.TrimSpace(o.stderr)) == 0:
		return fmt.Sprintf("exit status %d but nothing on stderr", o.code)
	}
	return ""
}

func judgeNoSpin(_ exchange, o outcome) string {
	if o.runnable > spinLimit {
		return fmt.Sprintf("after the server's FIN it ran or waited to run %.0f%% of the time (used %.0f%% of a CPU)", 100*o.runnable, 100*o.cpu)
	}
	return ""
}

func judgeLargeStream(ex exchange, o outcome) string {
	if errors.Is(o.rec.WriteErr, os.ErrDeadlineExceeded) {
		return fmt.Sprintf("deadlock: the client stopped reading the echo for %v while it was still writing (%d of %d bytes echoed; stdout has %d)",
			largeStall, o.rec.Sent, len(ex.sent), len(o.stdout))
	}
	if !o.exited {
		return fmt.Sprintf("no end after %v: the server received %d of %d bytes and the client printed %d",
			o.elapsed.Round(time.Millisecond), o.rec.ReceivedLen, len(ex.sent), len(o.stdout))
	}
	if o.code != 0 {
		return fmt.Sprintf("exit status %d; stderr: %q", o.code, clip(o.stderr))
	}
	return judgePrints(ex, o)
}
