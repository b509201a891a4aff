package spec

import (
	"context"
	"fmt"
	"time"
)

// MiB is a mebibyte.
const mib = 1 << 20

// largeChecks is the large category, in catalogue order.
var largeChecks = []entry{
	large1MiBCheck,
	large16MiBCheck,
	large64MiBCheck,
	largeSlowReaderCheck,
	largeThroughputCheck,
}

var large1MiBCheck = entry{
	Check: Check{
		ID:          "large/1mib",
		Requirement: "1 MiB streamed full-duplex comes back exactly.",
		Level:       Must,
		Timeout:     15 * time.Second,
	},
	test: large1MiB,
}

// large1MiB streams 1 MiB and verifies every byte.
func large1MiB(ctx context.Context, p *probe) error { return streamLarge(ctx, p, 1*mib) }

var large16MiBCheck = entry{
	Check: Check{
		ID:          "large/16mib",
		Requirement: "16 MiB streamed full-duplex comes back exactly.",
		Level:       Must,
		Timeout:     30 * time.Second,
	},
	test: large16MiB,
}

// large16MiB streams 16 MiB and verifies every byte.
func large16MiB(ctx context.Context, p *probe) error { return streamLarge(ctx, p, 16*mib) }

var large64MiBCheck = entry{
	Check: Check{
		ID:          "large/64mib",
		Requirement: "64 MiB streamed full-duplex comes back exactly.",
		Level:       Must,
		Timeout:     60 * time.Second,
	},
	test: large64MiB,
}

// large64MiB streams 64 MiB and verifies every byte.
func large64MiB(ctx context.Context, p *probe) error { return streamLarge(ctx, p, 64*mib) }

// streamLarge writes size bytes while reading and comparing the echo; the
// content is regenerated, never stored.
func streamLarge(ctx context.Context, p *probe, size int64) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	return asError(c.exchange(ctx, p.payload(0, 1, size), xfer{end: endDrain, budget: largeBudget}))
}

// large/throughput streams for a bounded time and compares the rate of
// the verified echo with minThroughput. The MUST checks pass a slower
// server that is correct (see budget.go); this one says it is slow. The
// rate lies between a server that moves a byte per system call and a
// buffered server on a saturated machine.
const (
	minThroughput    = 500_000 // bytes per second
	throughputSize   = 16 * mib
	throughputBudget = 3 * time.Second
)

var largeThroughputCheck = entry{
	Check: Check{
		ID:          "large/throughput",
		Requirement: "A full-duplex stream is echoed at 500 KB/s or more.",
		Level:       Should,
		Timeout:     20 * time.Second,
		Measures:    KindSlow,
	},
	test: largeThroughput,
}

// largeThroughput measures the echo rate of a full-duplex stream.
func largeThroughput(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	if f := c.exchange(ctx, p.payload(0, 1, throughputSize), xfer{end: endDrain, budget: throughputBudget}); f != nil {
		return f
	}
	elapsed := time.Since(c.started)
	if float64(c.received) >= minThroughput*elapsed.Seconds() {
		return nil
	}
	return &Failure{
		Kind: KindSlow, Offset: -1, Sent: c.sent, Received: c.received,
		Expected: fmt.Sprintf("an echo at %s or more", rate(minThroughput, time.Second)),
		Actual: fmt.Sprintf("%d bytes in %s (%s), every one right",
			c.received, elapsed.Round(10*time.Millisecond), rate(c.received, elapsed)),
		Detail: fmt.Sprintf("the server is correct but slow: it echoed at %s, where a buffered echo runs "+
			"at hundreds of MB/s on this machine; read and write in blocks (a buffer of 4 KiB or more "+
			"per read() and write()), not a byte at a time. The MUST checks passed it on what they could "+
			"verify in their time budgets (echoconf passes correct servers that echo at %d KB/s or more)",
			rate(c.received, elapsed), guaranteedRate/1000),
	}
}

// Slow reader: the client writes 8 MiB without reading until its writes
// stall (or it has written everything), so the server's send buffer is
// full before the first read; then it reads 32 KiB per 2 ms (about
// 16 MB/s, half a second on a correct server) through a small receive
// buffer. 8 MiB is twice the largest send buffer Linux gives a socket by
// default (tcp_wmem 4 MiB), so a server's sends must block or come up
// short, whatever the machine's load: a server that ignores a short or
// failed send() has lost bytes before the reading starts.
const (
	slowSize      = 8 * mib
	slowBite      = 32 << 10
	slowPause     = 2 * time.Millisecond
	slowRecvSpace = 32 << 10
)

var largeSlowReaderCheck = entry{
	Check: Check{
		ID:          "large/slow-reader",
		Requirement: "A client that reads slowly still gets every byte back (the server handles short writes).",
		Level:       Must,
		Timeout:     30 * time.Second,
	},
	test: largeSlowReader,
}

// largeSlowReader reads the echo slowly so the server must cope with short
// or blocking writes.
func largeSlowReader(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	if rb, ok := c.conn.(interface{ SetReadBuffer(int) error }); ok {
		_ = rb.SetReadBuffer(slowRecvSpace) // a hint: the pauses make the reader slow anyway
	}
	x := xfer{bite: slowBite, readPause: slowPause, holdReads: true, end: endDrain, budget: largeBudget}
	return asError(c.exchange(ctx, p.payload(0, 1, slowSize), x))
}
