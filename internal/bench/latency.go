package bench

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency summarises a latency histogram.
type Latency struct {
	Count int64         `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p99_9_ns"`
	Max   time.Duration `json:"max_ns"`
	Mean  time.Duration `json:"mean_ns"`
}

// Histogram bounds: 1 µs resolution is too coarse for a loopback echo, so
// values are in nanoseconds, up to a minute, with 3 significant digits.
const (
	histMin    = 1
	histMax    = int64(time.Minute)
	histDigits = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMin, histMax, histDigits)
}

// newHistograms returns n empty latency histograms, one per connection.
func newHistograms(n int) []*hdrhistogram.Histogram {
	hs := make([]*hdrhistogram.Histogram, n)
	for i := range hs {
		hs[i] = newHistogram()
	}
	return hs
}

// record adds d, clamped to the histogram's range.
func record(h *hdrhistogram.Histogram, d time.Duration) {
	_ = h.RecordValue(min(max(int64(d), histMin), histMax)) // in range: never fails
}

// summarise merges hs and returns the percentiles.
func summarise(hs []*hdrhistogram.Histogram) *Latency {
	all := newHistogram()
	for _, h := range hs {
		all.Merge(h)
	}
	q := func(p float64) time.Duration { return time.Duration(all.ValueAtQuantile(p)) }
	return &Latency{
		Count: all.TotalCount(),
		P50:   q(50),
		P90:   q(90),
		P99:   q(99),
		P999:  q(99.9),
		Max:   time.Duration(all.Max()),
		Mean:  time.Duration(all.Mean()),
	}
}
