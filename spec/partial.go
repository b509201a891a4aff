package spec

import (
	"context"
	"fmt"
	"time"
)

// partialChecks is the partial category, in catalogue order.
var partialChecks = []entry{
	partialPromptEchoCheck,
	partialSingleByteWritesCheck,
	partialOddSizesCheck,
	partialPausedWritesCheck,
	partialBufferBoundariesCheck,
}

// promptRounds is how many 1-byte messages partial/prompt-echo sends, one
// after the other's echo.
const promptRounds = 3

// hintTimeout bounds each of partial/prompt-echo's follow-up probes that
// find out what a silent server is waiting for.
const hintTimeout = time.Second

var partialPromptEchoCheck = entry{
	Check: Check{
		ID:          "partial/prompt-echo",
		Requirement: "A 1-byte message is echoed promptly, without the client sending more or closing.",
		Level:       Must,
		Timeout:     15 * time.Second,
	},
	test: partialPromptEcho,
}

// partialPromptEcho sends single bytes and waits for each echo without sending
// more or closing.
func partialPromptEcho(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	c.setNoDelay()
	for r := 1; r <= promptRounds; r++ {
		c.round = r
		from := c.received
		f := c.exchange(ctx, p.payload(0, r, 1), xfer{})
		if f == nil {
			continue
		}
		if f.Kind == KindTimeout && c.received == from && ctx.Err() == nil && !c.lineHinted {
			f.Detail = whatItWaitsFor(ctx, c)
		}
		return f
	}
	return nil
}

// whatItWaitsFor probes a server that did not echo a lone byte: does a
// newline, or the client's FIN, release the echo? It returns the detail.
func whatItWaitsFor(ctx context.Context, c *echoConn) string {
	wait := c.env.Scaled(idleTimeout)
	g := newWriteGate(c.conn)
	nl := literal([]byte("\n"))
	c.want.add(nl)
	if c.write(ctx, nl, xfer{}, g) == nil {
		if r := c.listen(c.env.Scaled(hintTimeout)); r.diff >= 0 {
			return fmt.Sprintf("nothing came back for %s, until the client sent a newline: %s", wait, readsLines)
		}
	}
	if c.closeWrite() == nil {
		if r := c.listen(c.env.Scaled(hintTimeout)); r.diff >= 0 {
			return fmt.Sprintf("nothing came back for %s, until the client closed its side: the server waits for "+
				"EOF (or a full buffer) before echoing; it must write back whatever each read() returns at once", wait)
		}
	}
	return fmt.Sprintf("nothing came back for %s, nor after a newline or the client's FIN: the "+
		"server does not echo (does it read from the right socket, and write back what it reads?)", wait)
}

var partialSingleByteWritesCheck = entry{
	Check: Check{
		ID:          "partial/single-byte-writes",
		Requirement: "A message written one byte at a time is echoed in full.",
		Level:       Must,
		Timeout:     15 * time.Second,
	},
	test: partialSingleByteWrites,
}

// partialSingleByteWrites writes a message one byte per write (TCP_NODELAY on).
func partialSingleByteWrites(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	c.setNoDelay()
	return asError(c.exchange(ctx, p.payload(0, 1, 600), xfer{chunks: []int{1}, end: endDrain}))
}

// oddSizes are partial/odd-sizes' write sizes, cycled.
var oddSizes = []int{1, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 17, 5, 2, 1399, 997, 16381, 11}

var partialOddSizesCheck = entry{
	Check: Check{
		ID:          "partial/odd-sizes",
		Requirement: "Writes of odd, uneven sizes are echoed in full and in order.",
		Level:       Must,
		Timeout:     40 * time.Second,
	},
	test: partialOddSizes,
}

// partialOddSizes writes a message in writes of odd, uneven sizes.
func partialOddSizes(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	c.setNoDelay()
	return asError(c.exchange(ctx, p.payload(0, 1, 100_003), xfer{chunks: oddSizes, end: endDrain}))
}

// writePause separates partial/paused-writes' writes. It is the stimulus
// (each write arrives on its own), not a synchronisation, so it is not
// scaled.
const writePause = 40 * time.Millisecond

// pausedSizes are partial/paused-writes' write sizes.
var pausedSizes = []int{100, 1, 1000, 37, 512, 3, 2048}

// pausedLockstep bounds partial/paused-writes' wait for the echo of each
// write before the next (see lockstep.go): a correct server answers in
// well under a millisecond, and a server that holds data back costs one
// such wait.
const pausedLockstep = 2 * time.Second

var partialPausedWritesCheck = entry{
	Check: Check{
		ID:          "partial/paused-writes",
		Requirement: "Writes separated by pauses are echoed in full and in order.",
		Level:       Must,
		Timeout:     15 * time.Second,
	},
	test: partialPausedWrites,
}

// partialPausedWrites writes a message in pieces separated by pauses.
func partialPausedWrites(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	c.setNoDelay()
	total := 0
	for _, n := range pausedSizes {
		total += n
	}
	x := xfer{chunks: pausedSizes, pause: writePause, lockstep: pausedLockstep, end: endDrain}
	return asError(c.exchange(ctx, p.payload(0, 1, int64(total)), x))
}

// boundarySizes are the message sizes around common buffer sizes.
var boundarySizes = []int64{4095, 4096, 4097, 65535, 65536, 65537}

var partialBufferBoundariesCheck = entry{
	Check: Check{
		ID:          "partial/buffer-boundaries",
		Requirement: "Messages of 4095, 4096, 4097, 65535, 65536 and 65537 bytes are echoed in full.",
		Level:       Must,
		Timeout:     40 * time.Second,
	},
	test: partialBufferBoundaries,
}

// partialBufferBoundaries sends each boundary-sized message on its own connection.
func partialBufferBoundaries(ctx context.Context, p *probe) error {
	for i, n := range boundarySizes {
		c, f := p.dial(ctx, fmt.Sprintf("the %d-byte message", n))
		if f != nil {
			return f
		}
		f = c.exchange(ctx, p.payload(i, 1, n), xfer{end: endDrain})
		_ = c.Close() // done with it either way
		if f != nil {
			return f
		}
	}
	return nil
}
