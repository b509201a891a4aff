package adversary

import "fmt"

// Behaviour is how the server treats every connection it accepts.
type Behaviour int

// The behaviours. Echo reads and writes at the same time, so it also serves
// large streams; the others are meant for short exchanges.
const (
	// Echo writes back every chunk as soon as it is read, until the
	// client half-closes; then the server closes.
	Echo Behaviour = iota
	// Trickle writes the echo back one byte at a time, Config.Pause
	// apart (the first Config.MaxPieces-1 bytes of each chunk read; the
	// rest of the chunk follows in one write).
	Trickle
	// Delay writes back every chunk Config.Delay after it was read.
	Delay
	// Resplit writes the echo back in pieces of the sizes in
	// Config.Pieces (cycling), Config.Pause apart, whatever the sizes the
	// client wrote (at most Config.MaxPieces pieces a chunk, the last
	// holding the rest).
	Resplit
	// CloseAtOnce half-closes (sends FIN) right after accepting, without
	// writing a byte; it keeps reading and recording what the client
	// sends until the client closes.
	CloseAtOnce
	// CloseHalf writes back the first half (rounded down) of the first
	// chunk it reads, then half-closes as CloseAtOnce does.
	CloseHalf
	// Reset resets the connection (SO_LINGER 0, then close: an RST)
	// after the first chunk is read, without writing a byte.
	Reset
	// Silent never writes and never closes: it reads and records until
	// the client's end, publishes the record, and holds the connection
	// open, unanswered, until Config.ConnTimeout or Server.Close.
	Silent
)

var behaviourNames = [...]string{
	Echo:        "echo",
	Trickle:     "trickle",
	Delay:       "delay",
	Resplit:     "resplit",
	CloseAtOnce: "close-at-once",
	CloseHalf:   "close-half",
	Reset:       "reset",
	Silent:      "silent",
}

// Behaviours lists every behaviour, in declaration order.
func Behaviours() []Behaviour {
	out := make([]Behaviour, len(behaviourNames))
	for i := range out {
		out[i] = Behaviour(i)
	}
	return out
}

// String returns the behaviour's name, such as "close-half".
func (b Behaviour) String() string {
	if b >= 0 && int(b) < len(behaviourNames) {
		return behaviourNames[b]
	}
	return fmt.Sprintf("behaviour(%d)", int(b))
}

// ParseBehaviour returns the behaviour named name.
func ParseBehaviour(name string) (Behaviour, error) {
	for i, n := range behaviourNames {
		if n == name {
			return Behaviour(i), nil
		}
	}
	return 0, fmt.Errorf("adversary: unknown behaviour %q", name)
}
