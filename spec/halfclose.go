package spec

import (
	"context"
	"time"
)

// halfCloseChecks is the halfclose category, in catalogue order.
var halfCloseChecks = []entry{
	halfCloseNoDataCheck,
	halfCloseSmallPendingCheck,
	halfCloseLargePendingCheck,
}

var halfCloseNoDataCheck = entry{
	Check: Check{
		ID:          "halfclose/no-data",
		Requirement: "When the client half-closes without sending, the server closes its side with a FIN.",
		Level:       Must,
		Timeout:     10 * time.Second,
	},
	test: halfCloseNoData,
}

// halfCloseNoData half-closes at once and expects the server's FIN.
func halfCloseNoData(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	if err := c.closeWrite(); err != nil {
		return asError(c.judge(ctx, obs{phase: phaseEOF, res: readResult{diff: -1, ending: endingOf(err), err: err}}))
	}
	return asError(c.finish(ctx, endEOF, 0))
}

var halfCloseSmallPendingCheck = entry{
	Check: Check{
		ID:          "halfclose/small-pending",
		Requirement: "After the client half-closes with a small message pending, all of it comes back, then a FIN.",
		Level:       Must,
		Timeout:     10 * time.Second,
		Probe:       true,
	},
	test: halfCloseSmallPending,
}

// halfCloseSmallPending sends a small message and half-closes before any echo
// can arrive; all of it, then a FIN, must come back.
func halfCloseSmallPending(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	return asError(c.exchange(ctx, p.payload(0, 1, 300), xfer{end: endEOF}))
}

// halfCloseLarge is halfclose/large-pending's payload size: more than the
// socket buffers hold, so data is still in flight at the half-close.
const halfCloseLarge = 4 * mib

var halfCloseLargePendingCheck = entry{
	Check: Check{
		ID:          "halfclose/large-pending",
		Requirement: "After the client half-closes with a large payload pending, all of it comes back, then a FIN.",
		Level:       Must,
		Timeout:     30 * time.Second,
	},
	test: halfCloseLargePending,
}

// halfCloseLargePending streams a large payload, half-closes right after the
// last write, and expects all of it, then a FIN.
func halfCloseLargePending(ctx context.Context, p *probe) error {
	c, f := p.dial(ctx, "")
	if f != nil {
		return f
	}
	defer c.Close()
	if wb, ok := c.conn.(interface{ SetWriteBuffer(int) error }); ok {
		_ = wb.SetWriteBuffer(slowSendSpace) // a hint: it only bounds what a budget cut leaves in flight
	}
	return asError(c.exchange(ctx, p.payload(0, 1, halfCloseLarge), xfer{end: endEOF, budget: halfCloseBudget}))
}
