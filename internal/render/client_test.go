package render_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

// clientCheck returns the client catalogue's check id.
func clientCheck(id string) spec.Check {
	GinkgoHelper()
	for _, c := range spec.Clients() {
		if c.ID == id {
			return c
		}
	}
	Fail("no client check " + id)
	return spec.Check{}
}

// failed is a failed result of check with failure f.
func failed(c spec.Check, f *spec.Failure) engine.Result {
	return engine.Result{Check: c, Status: engine.StatusFail, Err: f, Runs: 1, Failures: 1}
}

var _ = Describe("Hint", func() {
	DescribeTable("names the usual cause of a client's failure",
		func(id string, f *spec.Failure, want string) {
			Expect(render.Hint(failed(clientCheck(id), f))).To(HavePrefix(want))
		},
		Entry("a client that never connected", "client/sends-exact", &spec.Failure{Kind: spec.KindRefused},
			"the client never connected: does it use the host and port from its arguments"),
		Entry("the NUL terminator sent", "client/sends-exact", &spec.Failure{Kind: spec.KindWrongBytes, Diagnosis: spec.DiagExtra},
			"send exactly the message's bytes: strlen(msg), not strlen(msg)+1"),
		Entry("half the message sent", "client/sends-exact", &spec.Failure{Kind: spec.KindWrongBytes, Diagnosis: spec.DiagTruncated},
			"write() and send() may send fewer bytes than asked"),
		Entry("stale bytes printed", "client/prints-echo", &spec.Failure{Kind: spec.KindWrongOutput},
			"one read() may return only part of the echo"),
		Entry("a short read", "client/short-reads", &spec.Failure{Kind: spec.KindWrongOutput},
			"one read() may return only part of the echo"),
		Entry("a connection never closed", "client/closes-connection", &spec.Failure{Kind: spec.KindNoEOF},
			"once the whole echo is back, close the socket and exit"),
		Entry("a non-zero status after a good exchange", "client/exit-status", &spec.Failure{Kind: spec.KindExitStatus},
			"after a complete exchange, close the socket and exit with status 0"),
		Entry("status 0 after a reset", "client/reset", &spec.Failure{Kind: spec.KindExitStatus},
			"when read() returns 0 before the whole echo is back, or -1 (ECONNRESET), the exchange failed"),
		Entry("status 0 after an early close", "client/close-half", &spec.Failure{Kind: spec.KindExitStatus},
			"when read() returns 0 before the whole echo is back"),
		Entry("no timeout", "client/gives-up", &spec.Failure{Kind: spec.KindExitStatus},
			"a server may never answer: bound the wait for the echo"),
		Entry("a spin after EOF", "client/no-spin", &spec.Failure{Kind: spec.KindHygiene},
			"read() returning 0 means the server closed: stop then"),
		Entry("a deadlock on large input", "client/large-stream", &spec.Failure{Kind: spec.KindDeadlock},
			"a client that writes all its input before reading any echo deadlocks"),
		Entry("a stream client that does not end well", "client/large-stream", &spec.Failure{Kind: spec.KindExitStatus},
			"a stream client must copy everything and exit with status 0"),
	)

	It("keeps the server's hints for server checks", func() {
		c := spec.Check{ID: "basic/small-message", Level: spec.Must}
		Expect(render.Hint(failed(c, &spec.Failure{Kind: spec.KindRefused}))).To(HavePrefix("nothing accepted the connection"))
	})
})

var _ = Describe("Replay", func() {
	res := engine.Result{Check: spec.Check{ID: "client/reset"}, Status: engine.StatusFail}

	It("replays a client check with check-client, its shape and --tty", func() {
		r := &engine.Report{Target: "./client {host} '{port}'", Seed: 9, TimeoutScale: 2, Strict: true,
			Client: &engine.ClientInfo{Shape: "interactive", TTY: true}}
		Expect(render.Replay(r, res)).To(Equal(`echoconf check-client --select client/reset --seed 9 --timeout-scale 2 --strict --shape interactive --tty --exec './client {host} '\''{port}'\'''`))
	})

	It("replays a stream client without --tty", func() {
		r := &engine.Report{Target: "./c {host} {port}", Seed: 9, TimeoutScale: 1, Client: &engine.ClientInfo{Shape: "stream"}}
		Expect(render.Replay(r, res)).To(Equal(`echoconf check-client --select client/reset --seed 9 --timeout-scale 1 --shape stream --exec './c {host} {port}'`))
	})

	It("keeps a server's replay line", func() {
		r := &engine.Report{Target: "./server {port}", Exec: true, Seed: 9, TimeoutScale: 1}
		res := engine.Result{Check: spec.Check{ID: "basic/small-message"}, Status: engine.StatusFail}
		Expect(render.Replay(r, res)).To(Equal(`echoconf check --select basic/small-message --seed 9 --timeout-scale 1 --exec './server {port}'`))
	})
})

var _ = Describe("Score", func() {
	It("leaves a client check that does not apply to the client's shape out of the points at stake, and not a server's skip", func() {
		rb := points{"client/sends-exact": 10, "client/large-stream": 10}
		results := []engine.Result{
			{Check: spec.Check{ID: "client/sends-exact"}, Status: engine.StatusPass},
			{Check: spec.Check{ID: "client/large-stream"}, Status: engine.StatusSkip, Err: &spec.Skipped{Reason: "applies to stream clients only"}},
		}
		score, maxScore := render.Score(rb, &engine.Report{Results: results, Client: &engine.ClientInfo{Shape: "argument"}})
		Expect([]float64{score, maxScore}).To(Equal([]float64{10, 10}))
		score, maxScore = render.Score(rb, &engine.Report{Results: results})
		Expect([]float64{score, maxScore}).To(Equal([]float64{10, 20}), "a server's skipped check is at stake")
	})
})

// points is a render.Rubric from a map.
type points map[string]float64

func (p points) Points(id string) float64 { return p[id] }
