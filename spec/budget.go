package spec

import (
	"errors"
	"fmt"
	"time"
)

// Large exchanges have a time budget inside their watchdog, so that a slow
// but correct server passes them. Until the budget (scaled) is spent, a
// large check verifies every byte; once it is spent while the echo is still
// coming, it stops and passes on what it verified: every byte so far right,
// and no pause of idleTimeout. A streaming check stops reading at once; a
// check that must see the server's FIN after a half-close stops writing
// instead, half-closes, and still requires all it sent, then the FIN.
// robustness checks and the other categories move little enough data that
// their watchdogs hold for the rate below.
//
// guaranteedRate is the echo rate for which the promise holds: a server
// that echoes exactly the right bytes at this rate or faster, never pausing
// for idleTimeout, fails no MUST check (README). The budgets, the watchdogs
// and slowSendSpace are sized for it, with room for a loaded machine.
const (
	guaranteedRate = 50_000 // bytes per second
	// largeBudget bounds the streaming large checks.
	largeBudget = 5 * time.Second
	// halfCloseBudget bounds the writing of halfclose/large-pending; the
	// data then in flight (at most slowSendSpace in the client's send
	// buffer, plus the server's receive buffer) must still come back.
	halfCloseBudget = 3 * time.Second
	// slowSendSpace is the send buffer of a budgeted half-close exchange,
	// small so that little is in flight when the budget cuts the payload.
	slowSendSpace = 64 << 10
)

// errBudget stops a writer whose exchange's budget is spent.
var errBudget = errors.New("the exchange's time budget is spent")

// rate describes n bytes in d as a rate for people ("160 KB/s").
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "unmeasured"
	}
	bps := float64(n) / d.Seconds()
	switch {
	case bps >= 1e6:
		return fmt.Sprintf("%.1f MB/s", bps/1e6)
	case bps >= 1e3:
		return fmt.Sprintf("%.0f KB/s", bps/1e3)
	}
	return fmt.Sprintf("%.0f B/s", bps)
}

// slowDetail explains a check whose watchdog ran out while the echo was
// still coming: got of total bytes of the current message in elapsed.
func slowDetail(got, total int64, elapsed time.Duration) string {
	return fmt.Sprintf("the check ran out of time with the echo still coming: %d of %d bytes in %s (%s), all "+
		"of them right; the server is far too slow (echoconf passes servers that echo at %d KB/s or more)",
		got, total, elapsed.Round(100*time.Millisecond), rate(got, elapsed), guaranteedRate/1000)
}
