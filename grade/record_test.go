package grade_test

import (
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/grade"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("a submission's record", func() {
	It("reads back from its JSON with the replay's seed, scale and mode, and each failure's timeline", func() {
		all := spec.All()
		rep := &engine.Report{Target: "./server {port}", Started: time.Unix(1700000000, 0).UTC(),
			Duration: 1500 * time.Millisecond, Seed: 4242, TimeoutScale: 2.5, Exec: true,
			Server: &engine.ServerInfo{Command: "./server 40000", PID: 123, Exit: "signal: broken pipe"}}
		for i, c := range all {
			res := engine.Result{Check: c, Status: engine.StatusPass, Duration: time.Millisecond, Runs: 1}
			if i == 1 {
				res.Status, res.Failures = engine.StatusFail, 1
				res.Err = &spec.Failure{Kind: spec.KindWrongBytes, Expected: "hello", Actual: "HELLO", Offset: 0,
					Sent: 5, Received: 5, ExpectedWindow: []byte("hello"), ActualWindow: []byte("HELLO"), Ending: spec.EventEOF}
				res.Timeline = &engine.Timeline{Conns: 1, Written: 5, Read: 5,
					Head: []engine.ExchangeEvent{{At: 0, Conn: 1, Op: "connect"}, {At: 2 * time.Millisecond, Conn: 1, Op: "write", Bytes: 5}},
					Tail: []engine.ExchangeEvent{{At: 3 * time.Millisecond, Conn: 1, Op: "read", Bytes: 5, End: "eof"}}}
			}
			rep.Results = append(rep.Results, res)
		}
		first := render.BuildJSON(rep)
		back, err := grade.ReportFromJSON(first, all)
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Seed).To(Equal(uint64(4242)))
		Expect(back.Exec).To(BeTrue())
		Expect(cmp.Diff(first, render.BuildJSON(back))).To(BeEmpty())
	})
})
