package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteJSON writes r as one indented JSON object. Durations are integer
// nanoseconds (fields ending in _ns).
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for people.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", r.Mode, r.describe())
	fmt.Fprintf(&b, "  cpu condition  %s (machine busy %.0f%% of all CPUs during the run)\n", r.CPUCondition, 100*r.MachineBusy)
	switch r.Mode {
	case ModeStream:
		fmt.Fprintf(&b, "  throughput     %.1f MiB/s (%d bytes echoed and verified in %v)\n", r.MiBPerSec, r.Bytes, r.Elapsed.Round(time.Millisecond))
	case ModePingPong:
		fmt.Fprintf(&b, "  throughput     %.0f msgs/s, %.1f MiB/s (%d messages verified in %v)\n", r.MsgsPerSec, r.MiBPerSec, r.Messages, r.Elapsed.Round(time.Millisecond))
	case ModeConnRate:
		fmt.Fprintf(&b, "  rate           %.0f connections/s (%d verified in %v)\n", r.MsgsPerSec, r.Messages, r.Elapsed.Round(time.Millisecond))
	case ModeIdle:
		fmt.Fprintf(&b, "  held           %d connections for %v, each echoed %d bytes first and 1 byte at the end\n", r.Messages, r.Elapsed.Round(time.Millisecond), r.Size)
	}
	if l := r.Latency; l != nil {
		fmt.Fprintf(&b, "  latency        p50 %v  p90 %v  p99 %v  p99.9 %v  max %v\n", us(l.P50), us(l.P90), us(l.P99), us(l.P999), us(l.Max))
	}
	fmt.Fprintf(&b, "  bench cpu      %.2f cores (user %v, system %v)\n", r.CPU.Cores, r.CPU.User.Round(time.Millisecond), r.CPU.System.Round(time.Millisecond))
	if s := r.Server; s != nil {
		fmt.Fprintf(&b, "  server         %d process(es): RSS %.1f -> %.1f MiB, %.0f bytes per connection; fds %d -> %d, %.2f per connection\n",
			s.Processes, mib(s.RSSBefore), mib(s.RSSHeld), s.RSSPerConn, s.FDsBefore, s.FDsHeld, s.FDsPerConn)
		fmt.Fprintf(&b, "  after close    RSS %.1f MiB %s after every connection closed\n", mib(s.RSSAfterClose), s.AfterCloseDelay)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) describe() string {
	switch r.Mode {
	case ModeStream:
		return fmt.Sprintf("%d connection(s), %d-byte writes", r.Conns, r.Size)
	case ModePingPong:
		return fmt.Sprintf("%d connection(s), %d-byte messages, depth %d", r.Conns, r.Size, r.Depth)
	case ModeConnRate:
		return fmt.Sprintf("%d worker(s), %d-byte message per connection", r.Conns, r.Size)
	}
	return fmt.Sprintf("%d idle connection(s)", r.Conns)
}

func us(d time.Duration) string {
	return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// ProgressLine renders p as one line for a terminal.
func ProgressLine(p Progress) string {
	if p.Mode == ModeIdle {
		return fmt.Sprintf("idle: %d connections open", p.Messages)
	}
	s := p.Elapsed.Seconds()
	if s <= 0 {
		return string(p.Mode)
	}
	return fmt.Sprintf("%s: %4.1fs of %v  %8.1f MiB/s  %9.0f msgs/s", p.Mode, s, p.Duration, float64(p.Bytes)/(1<<20)/s, float64(p.Messages)/s)
}
