package spec

import (
	"context"
	"fmt"
	"time"
)

// CategoryClient is the category of the client catalogue (Clients).
const CategoryClient = "client"

// Shape is how an echo client takes the message it sends.
type Shape int

// The client shapes.
const (
	// ShapeArgument: the message is a command-line argument ({message});
	// the client sends it, prints its echo and exits.
	ShapeArgument Shape = iota
	// ShapeInteractive: the client reads lines from stdin, sends each and
	// prints each echo, until end of file on stdin.
	ShapeInteractive
	// ShapeStream: the client copies stdin to the server and the echo to
	// stdout, until end of file on stdin and then on the connection.
	ShapeStream
)

var shapeNames = [...]string{ShapeArgument: "argument", ShapeInteractive: "interactive", ShapeStream: "stream"}

// String returns "argument", "interactive" or "stream".
func (s Shape) String() string {
	if s >= 0 && int(s) < len(shapeNames) {
		return shapeNames[s]
	}
	return fmt.Sprintf("Shape(%d)", int(s))
}

// ParseShape returns the shape named name.
func ParseShape(name string) (Shape, error) {
	for i, n := range shapeNames {
		if n == name {
			return Shape(i), nil
		}
	}
	return 0, fmt.Errorf("unknown client shape %q (argument, interactive or stream)", name)
}

// ClientRunner runs the echo client under test. The runner implements it
// (Env.Client); client checks play the server and call it.
type ClientRunner interface {
	// Shape is how the client takes its input.
	Shape() Shape
	// Run runs the client once against the server at host:port and
	// returns what it did. It returns only once the client and everything
	// it started are gone. Its error means the client could not be run at
	// all (not that it failed).
	Run(ctx context.Context, host, port string, in ClientInput) (*ClientOutput, error)
}

// ClientInput is one run of a client: what it is given and how long it
// may take.
type ClientInput struct {
	// Message fills the command's {message} (ShapeArgument).
	Message string
	// Stdin is the client's whole standard input, then end of file.
	Stdin []byte
	// Limit bounds the run: the client is killed when it has not exited
	// by then.
	Limit time.Duration
	// Idle, when set, ends the run sooner: the client is killed when its
	// stdout has not grown for that long.
	Idle time.Duration
	// Watch, when set, runs while the client does, with its process ID
	// and a channel closed when it has exited; Run waits for it to return.
	Watch func(pid int, exited <-chan struct{})
}

// ClientOutput is what one run of a client did.
type ClientOutput struct {
	Stdout, Stderr []byte
	// Exited is false when the runner killed the client (at Limit, Idle
	// or the output limit).
	Exited bool
	// ExitCode is its exit status; -1 when a signal ended it.
	ExitCode int
	// Exit says how it ended: "exit status 1", "signal: killed".
	Exit string
	// Killed says why the runner killed it ("" when it exited).
	Killed   string
	Duration time.Duration
	// Leftovers is set when processes it started outlived it (they were
	// killed).
	Leftovers bool
}
