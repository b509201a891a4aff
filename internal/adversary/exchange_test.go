package adversary_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/echoconf/echoconf/internal/adversary"
)

// exchange is what the client is given and must send back and print.
type exchange struct {
	shape   string
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
		return exchange{shape: shape, stdin: in, sent: in, pieces: [][]byte{in}}
	case shape == shapeArgument:
		m := "echo" + randomHex(16)
		return exchange{shape: shape, message: m, sent: []byte(m), pieces: [][]byte{[]byte(m)}}
	case shape == shapeInteractive:
		lines := [][]byte{[]byte(randomHex(40) + "\n"), []byte(randomHex(16) + "\n"), []byte(randomHex(6) + "\n")}
		in := bytes.Join(lines, nil)
		return exchange{shape: shape, stdin: in, sent: in, pieces: lines}
	default:
		in := []byte(randomHex(30) + "\n" + randomHex(50) + "\n" + randomHex(7) + "\n")
		return exchange{shape: shape, stdin: in, sent: in, pieces: [][]byte{in}}
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
