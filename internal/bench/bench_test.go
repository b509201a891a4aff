package bench_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/bench"
	"github.com/echoconf/echoconf/internal/fakeserver"
	"github.com/echoconf/echoconf/spec"
)

// short is a run short enough for a test, long enough to count something.
func short(addr string, mode bench.Mode) bench.Config {
	return bench.Config{Addr: addr, Mode: mode, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond, Timeout: 5 * time.Second}
}

// fake serves h and returns its address.
func fake(h func(c *net.TCPConn)) string {
	GinkgoHelper()
	s, err := fakeserver.Start(func(c *net.TCPConn, quit <-chan struct{}) {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		h(c)
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close)
	return s.Addr
}

// echoThen echoes faithfully through a 4 KiB buffer, handing each chunk to
// change first; the total echoed so far is given.
func echoThen(change func(b []byte, total int64) []byte) func(c *net.TCPConn) {
	return func(c *net.TCPConn) {
		buf := make([]byte, 4096)
		var total int64
		for {
			n, err := c.Read(buf)
			if n > 0 {
				out := change(buf[:n], total)
				total += int64(n)
				if _, werr := c.Write(out); werr != nil {
					return
				}
			}
			if err != nil {
				_ = c.CloseWrite()
				return
			}
		}
	}
}

var _ = Describe("Run", func() {
	BeforeEach(func() {
		ignore := goleak.IgnoreCurrent()
		DeferCleanup(func() { goleak.VerifyNone(GinkgoT(), ignore) })
	})

	DescribeTable("measures the reference server in every mode and verifies every byte",
		func(mode bench.Mode, conns, depth int) {
			srv := echotest.NewServer()
			DeferCleanup(srv.Close)
			cfg := short(srv.Addr, mode)
			cfg.Conns, cfg.Depth = conns, depth
			if mode == bench.ModeIdle {
				cfg.ServerPID = os.Getpid() // the server runs in this process
			}
			r, err := bench.Run(context.Background(), cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.Mode).To(Equal(mode))
			Expect(r.CPUCondition).To(Equal(bench.CPUIdle))
			Expect(r.Bytes).To(BeNumerically(">", 0))
			Expect(r.Elapsed).To(BeNumerically(">=", cfg.Duration))
			// A fraction of the machine, sampled from /proc/stat: 0 on a quiet machine over a short run.
			Expect(r.MachineBusy).To(BeNumerically(">=", 0))
			Expect(r.MachineBusy).To(BeNumerically("<=", 1))
			Expect(r.CPU.User + r.CPU.System).To(BeNumerically(">", 0))
			switch mode {
			case bench.ModeStream:
				Expect(r.MiBPerSec).To(BeNumerically(">", 0))
				Expect(r.Latency).To(BeNil())
			case bench.ModePingPong, bench.ModeConnRate:
				Expect(r.MsgsPerSec).To(BeNumerically(">", 0))
				Expect(r.Latency).NotTo(BeNil())
				Expect(r.Latency.Count).To(BeNumerically(">", 0))
				Expect(r.Latency.P50).To(BeNumerically("<=", r.Latency.P99))
				Expect(r.Latency.P99).To(BeNumerically("<=", r.Latency.Max))
			case bench.ModeIdle:
				Expect(r.Messages).To(BeEquivalentTo(conns))
				Expect(r.Server).NotTo(BeNil())
				Expect(r.Server.FDsHeld-r.Server.FDsBefore).To(BeNumerically(">=", 2*conns), "a client and a server descriptor per connection, both in this process")
			}
		},
		Entry("stream, 1 connection", bench.ModeStream, 1, 1),
		Entry("stream, 8 connections", bench.ModeStream, 8, 1),
		Entry("pingpong, 4 connections", bench.ModePingPong, 4, 1),
		Entry("pingpong, depth 8", bench.ModePingPong, 2, 8),
		Entry("connrate", bench.ModeConnRate, 2, 1),
		Entry("idle", bench.ModeIdle, 50, 1),
	)

	It("keeps one CPU awake on request, and says so", func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		cfg := short(srv.Addr, bench.ModePingPong)
		cfg.Awake = true
		r, err := bench.Run(context.Background(), cfg)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.CPUCondition).To(Equal(bench.CPUAwake))
		// The spinner holds one of the 2 cores, so this process (the bench and
		// its in-process server) gets about one at most; counted, the spinner
		// alone would make it 1 and more.
		Expect(r.CPU.Cores).To(BeNumerically("<", 1.2), "the spinner's CPU is not the bench's")
	})

	DescribeTable("ends the run with the diagnosis check gives",
		func(mode bench.Mode, h func(c *net.TCPConn), kind spec.Kind, diag spec.Diagnosis) {
			cfg := short(fake(h), mode)
			cfg.Size = 1000
			// The failure ends the run; a long run lets it happen however
			// slow a busy machine makes the echo.
			cfg.Duration = time.Minute
			_, err := bench.Run(context.Background(), cfg)
			var f *spec.Failure
			Expect(errors.As(err, &f)).To(BeTrue(), "got %v", err)
			Expect(f.Kind).To(Equal(kind))
			Expect(f.Diagnosis).To(Equal(diag))
			Expect(f.Conn).NotTo(BeEmpty())
		},
		Entry("stream: one byte altered at 100000", bench.ModeStream, echoThen(func(b []byte, total int64) []byte {
			if total <= 100_000 && 100_000 < total+int64(len(b)) {
				b[100_000-total] ^= 0x20
			}
			return b
		}), spec.KindWrongBytes, spec.DiagAltered),
		Entry("pingpong: 10 bytes dropped", bench.ModePingPong, echoThen(func(b []byte, total int64) []byte {
			if total == 0 && len(b) > 20 {
				return append(b[:5:5], b[15:]...)
			}
			return b
		}), spec.KindWrongBytes, spec.DiagDropped),
		Entry("connrate: extra newline", bench.ModeConnRate, echoThen(func(b []byte, _ int64) []byte {
			return append(b, '\n')
		}), spec.KindExtraBytes, spec.DiagExtra),
		// The bench's reader and writer race for the RST: whichever system
		// call comes first gets ECONNRESET, and a read after it gets EOF.
		Entry("stream: reset after 64 KiB", bench.ModeStream, func(c *net.TCPConn) {
			_, _ = io.CopyN(c, c, 64<<10)
			_ = c.SetLinger(0)
		}, spec.KindReset, spec.DiagNone),
		// A FIN first, then the RST that the bench's next bytes provoke: the
		// server closed early, and the reset is only its consequence.
		Entry("stream: FIN after 64 KiB, then reset", bench.ModeStream, func(c *net.TCPConn) {
			if _, err := io.CopyN(c, c, 64<<10); err == nil {
				_ = c.CloseWrite()
				_, _ = io.CopyN(io.Discard, c, 64<<10)
			}
			_ = c.SetLinger(0)
		}, spec.KindEarlyEOF, spec.DiagNone),
		// The server reads the second message before it closes, so that it
		// never closes with unread data: that would send an RST instead of
		// the FIN, depending on when the second message arrives.
		Entry("pingpong: closed after one message", bench.ModePingPong, func(c *net.TCPConn) {
			buf := make([]byte, 1000)
			if _, err := io.ReadFull(c, buf); err == nil {
				_, _ = c.Write(buf)
				_, _ = io.ReadFull(c, buf) // the second message, left unanswered
			}
		}, spec.KindEarlyEOF, spec.DiagNone),
	)

	It("reports a stall as a timeout after Timeout", func() {
		cfg := short(fake(func(c *net.TCPConn) { _, _ = io.Copy(io.Discard, c) }), bench.ModePingPong)
		cfg.Timeout = 300 * time.Millisecond
		_, err := bench.Run(context.Background(), cfg)
		var f *spec.Failure
		Expect(errors.As(err, &f)).To(BeTrue(), "got %v", err)
		Expect(f.Kind).To(Equal(spec.KindTimeout))
	})

	It("does not fail a slow server whose echo keeps coming while a write waits longer than Timeout", func() {
		// The server first takes 1 MiB without echoing, then echoes it in
		// 64 KiB pieces for 4.8 s without reading, so the bench's writer
		// waits 2.4 Timeouts while the echo keeps coming; then it echoes
		// as fast as it can.
		slowStart := func(c *net.TCPConn) {
			held := make([]byte, 1<<20)
			if _, err := io.ReadFull(c, held); err != nil {
				return
			}
			tick := time.NewTicker(300 * time.Millisecond)
			defer tick.Stop()
			for piece := range slices.Chunk(held, 64<<10) {
				<-tick.C
				if _, err := c.Write(piece); err != nil {
					return
				}
			}
			echoThen(func(b []byte, _ int64) []byte { return b })(c)
		}
		cfg := short(fake(slowStart), bench.ModeStream)
		cfg.Size, cfg.Timeout = 1024, 2*time.Second
		// The measured 300 ms may fall inside the slow start, when
		// nothing is echoed: only the error is the point.
		_, err := bench.Run(context.Background(), cfg)
		Expect(err).NotTo(HaveOccurred())
	})

	It("stops at once when its context ends", func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		cfg := short(srv.Addr, bench.ModeStream)
		cfg.Duration = time.Minute
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		began := time.Now()
		_, err := bench.Run(ctx, cfg)
		Expect(err).To(MatchError(context.Canceled))
		Expect(time.Since(began)).To(BeNumerically("<", 10*time.Second))
	})

	DescribeTable("rejects an invalid configuration",
		func(cfg bench.Config, want string) {
			cfg.Addr = "127.0.0.1:1"
			_, err := bench.Run(context.Background(), cfg)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("unknown mode", bench.Config{Mode: "flood"}, `unknown mode "flood"`),
		Entry("too many connections", bench.Config{Conns: bench.MaxConns + 1}, "connections"),
		Entry("negative size", bench.Config{Size: -1}, "size -1"),
		Entry("too deep", bench.Config{Mode: bench.ModePingPong, Size: 1 << 20, Depth: 8}, "size × depth"),
	)

	It("formats text and JSON", func() {
		r := &bench.Result{Mode: bench.ModePingPong, Conns: 1, Size: 1024, Depth: 1, CPUCondition: bench.CPUAwake,
			Elapsed: time.Second, Messages: 1000, Latency: &bench.Latency{P50: 15 * time.Microsecond}}
		var text, js bytes.Buffer
		Expect(bench.WriteText(&text, r)).To(Succeed())
		Expect(text.String()).To(ContainSubstring("cpu condition  awake"))
		Expect(text.String()).To(ContainSubstring("p50 15.0µs"))
		Expect(bench.WriteJSON(&js, r)).To(Succeed())
		Expect(js.String()).To(ContainSubstring(`"cpu_condition": "awake"`))
		Expect(js.String()).To(ContainSubstring(`"p50_ns": 15000`))
	})
})
