package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/bench"
)

var _ = Describe("the report", func() {
	servers := []server{
		{name: ours, ours: true},
		{name: "C epoll"},
		{name: "C fork", idle: "a process per connection"},
	}
	pp := func(msgs float64, p99 time.Duration) *bench.Result {
		return &bench.Result{MsgsPerSec: msgs, Latency: &bench.Latency{P99: p99}}
	}
	l := load{name: "64 connections × 1 KiB ping-pong", cfg: bench.Config{Mode: bench.ModePingPong, Conns: 64}, metric: msgps}
	results := map[string]map[string][]*bench.Result{l.name: {
		ours:      {pp(100, 3*time.Millisecond), pp(300, time.Millisecond), pp(200, 2*time.Millisecond)},
		"C epoll": {pp(150, time.Millisecond), pp(160, time.Millisecond), pp(140, time.Millisecond)},
		"C fork":  {pp(50, time.Millisecond), pp(40, 5*time.Millisecond), pp(60, time.Millisecond)},
	}}

	It("compares medians with the best other server, ours excluded", func() {
		Expect(median(results[l.name][ours], msgps.get)).To(Equal(200.0))
		name, best := bestOther(servers, results[l.name], msgps)
		Expect(name).To(Equal("C epoll"))
		Expect(best).To(Equal(150.0))
		name, best = bestOther(servers, results[l.name], p99)
		Expect(name).To(Equal("C epoll"), "lower is better for p99")
		Expect(best).To(Equal(1000.0))
	})

	It("writes the ratios and the verdicts of the goals", func() {
		doc := render(servers, []load{l}, results, map[string]string{}, 3, time.Minute)
		Expect(doc).To(ContainSubstring("| 64 connections × 1 KiB ping-pong, msgs/s (≥ 1.00) | 200 msgs/s | 150 msgs/s (C epoll) | 1.33 | yes |"))
		Expect(doc).To(ContainSubstring("| 64 connections × 1 KiB ping-pong, p99 (≤ 1.00) | 2000 µs | 1000 µs (C epoll) | 2.00 | **no** |"))
	})

	It("replaces only its own section of the document", func() {
		path := filepath.Join(GinkgoT().TempDir(), "performance.md")
		Expect(os.WriteFile(path, []byte("intro\n"+beginMarker+"\nold\n"+endMarker+"\noutro\n"), 0o644)).To(Succeed())
		Expect(writeDoc(path, "new\n")).To(Succeed())
		raw, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(raw)).To(Equal("intro\n" + beginMarker + "\nnew\n" + endMarker + "\noutro\n"))
	})

	It("draws a chart that is well-formed SVG", func() {
		svg := chart(servers, []load{l}, results)
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err != nil {
				Expect(err.Error()).To(Equal("EOF"))
				break
			}
		}
		Expect(strings.Count(svg, "<rect")).To(Equal(1+2*3+3), "background, 3 bars in each of 2 rows, 3 legend keys")
	})
})
