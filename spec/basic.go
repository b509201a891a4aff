package spec

import (
	"context"
	"fmt"
	"time"
)

// quietPeriod is how long basic/no-greeting listens before sending: the one
// place where a bounded wait is the measurement itself. A greeting that
// comes later still shows up as extra bytes in the echo that follows.
const quietPeriod = 300 * time.Millisecond

// basicChecks is the basic category, in catalogue order.
var basicChecks = []entry{
	basicNoGreetingCheck,
	basicSmallMessageCheck,
	basicManyMessagesCheck,
	basicAllByteValuesCheck,
	basicLineEndingsCheck,
}

var basicNoGreetingCheck = entry{
	Check: Check{
		ID:          "basic/no-greeting",
		Requirement: "The server sends nothing before it receives data.",
		Level:       Must,
		Timeout:     10 * time.Second,
	},
	test: basicNoGreeting,
}

// basicNoGreeting listens for a quiet period before sending, then checks the echo.
func basicNoGreeting(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	quiet := p.env.Scaled(quietPeriod)
	r := c.listen(quiet)
	if err := ctx.Err(); err != nil {
		return asError(c.judge(ctx, obs{phase: phaseEcho, res: readResult{diff: -1, err: err}}))
	}
	switch {
	case r.diff >= 0:
		return &Failure{
			Kind: KindExtraBytes, Diagnosis: DiagExtra,
			Expected: "nothing before the client sends",
			Actual:   fmt.Sprintf("%d bytes before the client sent anything", len(r.tail)),
			Received: c.received, Offset: 0, ActualWindow: r.tail[:min(len(r.tail), 2*window)],
			Ending: r.ending,
			Detail: fmt.Sprintf("the server sent %s within %s of the connection, before receiving any "+
				"data (a greeting, banner or prompt?): an echo server must send only what it receives",
				quoted(r.tail, 40), quiet),
		}
	case r.ending == EventEOF || r.ending == EventReset:
		f := &Failure{
			Kind: KindEarlyEOF, Offset: -1, Ending: r.ending, Err: r.err,
			Expected: "the connection to stay open",
			Actual:   "the server closed it before the client sent anything",
			Detail:   "the server closed the new connection at once, without waiting for data",
		}
		if r.ending == EventReset {
			f.Kind, f.Actual = KindReset, "the server reset it before the client sent anything"
		}
		return f
	}
	return asError(c.exchange(ctx, p.payload(0, 1, 64), xfer{end: endDrain}))
}

// smallMessage is basic/small-message's payload: readable in a hex dump,
// and ending in a newline, so that only line-reading is spared here (the
// partial and line-ending checks catch that).
var smallMessage = []byte("Hello, echo server! 0123456789 The quick brown fox jumps over the lazy dog.\n")

var basicSmallMessageCheck = entry{
	Check: Check{
		ID:          "basic/small-message",
		Requirement: "A small message comes back exactly.",
		Level:       Must,
		Timeout:     10 * time.Second,
	},
	test: basicSmallMessage,
}

// basicSmallMessage sends one short line and expects exactly it back.
func basicSmallMessage(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	return asError(c.exchange(ctx, literal(smallMessage), xfer{end: endDrain}))
}

// manyMessages is how many request/response rounds basic/many-messages runs.
const manyMessages = 200

var basicManyMessagesCheck = entry{
	Check: Check{
		ID:          "basic/many-messages",
		Requirement: "Many messages pass on one connection, each echoed exactly with no extra bytes.",
		Level:       Must,
		Timeout:     40 * time.Second,
	},
	test: basicManyMessages,
}

// basicManyMessages runs many rounds on one connection; extra bytes after a
// round show up as a difference at the start of the next.
func basicManyMessages(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	for r := 1; r <= manyMessages; r++ {
		size := 1 + int64(mix64(p.env.Seed^uint64(r))%1400)
		if r%10 == 3 {
			size = 1
		}
		end := endOpen
		if r == manyMessages {
			end = endDrain
		}
		c.round = r
		if f := c.exchange(ctx, p.payload(0, r, size), xfer{end: end}); f != nil {
			return f
		}
	}
	return nil
}

// allByteValues is 1..255, then NUL, then 255..0: every byte value, with
// the first NUL in the middle so a C-string server is caught where it stops.
var allByteValues = func() []byte {
	b := make([]byte, 0, 512)
	for i := 1; i <= 255; i++ {
		b = append(b, byte(i))
	}
	b = append(b, 0)
	for i := 255; i >= 0; i-- {
		b = append(b, byte(i))
	}
	return b
}()

var basicAllByteValuesCheck = entry{
	Check: Check{
		ID:          "basic/all-byte-values",
		Requirement: "All 256 byte values, NUL included, come back unchanged.",
		Level:       Must,
		Timeout:     10 * time.Second,
	},
	test: basicAllByteValues,
}

// basicAllByteValues sends every byte value and expects them back unchanged.
func basicAllByteValues(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	return asError(c.exchange(ctx, literal(allByteValues), xfer{end: endDrain}))
}

// lineEndingPayloads are basic/line-endings' payloads, each sent on its own
// connection.
var lineEndingPayloads = []string{
	"a line ending in LF\n",
	"a line ending in CRLF\r\n",
	"no line ending",
	"\n",
	"\r\n",
	"a bare CR\r",
	"two\nlines\n",
	"mixed\r\nline\nendings\r\rand\n\nblank lines\r\n\r\n",
}

var basicLineEndingsCheck = entry{
	Check: Check{
		ID:          "basic/line-endings",
		Requirement: "Payloads with and without a trailing newline, and with CRLF, come back byte for byte.",
		Level:       Must,
		Timeout:     20 * time.Second,
	},
	test: basicLineEndings,
}

// basicLineEndings sends payloads with and without line endings, one per connection.
func basicLineEndings(ctx context.Context, p *probe) error {
	for _, s := range lineEndingPayloads {
		c, f := p.dial(ctx, fmt.Sprintf("payload %q", s))
		if f != nil {
			return f
		}
		f = c.exchange(ctx, literal([]byte(s)), xfer{end: endDrain})
		_ = c.Close() // done with it either way
		if f != nil {
			return f
		}
	}
	return nil
}
