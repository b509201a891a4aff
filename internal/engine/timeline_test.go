package engine_test

import (
	"context"
	"io"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("the timeline of a failure", func() {
	var echo *fakeServer
	BeforeEach(func() { echo = startFake(echoHandler) })

	// chatty writes and reads ten 1000-byte rounds, half-closes, reads the
	// server's EOF and then fails, so its timeline has more events than it
	// keeps.
	chatty := spec.Check{ID: "basic/chatty", Requirement: "r", Timeout: 5 * time.Second,
		Run: func(ctx context.Context, env *spec.Env) error {
			c, err := env.Dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
				return err
			}
			buf := make([]byte, 1000)
			for range 10 {
				if _, err := c.Write(buf); err != nil {
					return err
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					return err
				}
			}
			if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
				return err
			}
			if n, err := c.Read(buf); n != 0 || err != io.EOF {
				return &spec.Failure{Kind: spec.KindNoEOF, Offset: -1, Detail: "no EOF"}
			}
			return &spec.Failure{Kind: spec.KindWrongBytes, Offset: 0, Detail: "failed on purpose"}
		}}

	It("keeps the first and the last events, with sizes, times and the event that ended the exchange", func() {
		rep := run(echo.Addr, engine.Options{Checks: []spec.Check{chatty, echoCheck("basic/fine")}})
		res := rep.Results[0]
		Expect(res.Status).To(Equal(engine.StatusFail))
		Expect(res.Failure().Detail).To(Equal("failed on purpose"), "the wrapped connection half-closes like a TCP connection")
		t := res.Timeline
		Expect(t).NotTo(BeNil())
		Expect(t.Conns).To(Equal(1))
		Expect(t.Written).To(Equal(int64(10000)))
		Expect(t.Read).To(Equal(int64(10000)))
		Expect(t.Head).To(HaveLen(engine.TimelineEdge))
		Expect(t.Tail).To(HaveLen(engine.TimelineEdge))
		Expect(t.Head[0].Op).To(Equal("connect"))
		Expect(t.Head[1]).To(And(HaveField("Op", "write"), HaveField("Bytes", 1000), HaveField("Conn", 1)))
		last := t.Tail[len(t.Tail)-3:]
		Expect(last[0].Op).To(Equal("half-close"))
		Expect(last[1]).To(And(HaveField("Op", "read"), HaveField("Bytes", 0), HaveField("End", "eof (the server closed)")))
		Expect(last[2].Op).To(Equal("close"))
		Expect(t.Omitted).To(BeNumerically(">", 0))
		Expect(len(t.Head) + t.Omitted + len(t.Tail)).To(BeNumerically(">=", 1+20+3))
		for i := 1; i < len(t.Tail); i++ {
			Expect(t.Tail[i].At).To(BeNumerically(">=", t.Tail[i-1].At), "events are in time order")
		}
		Expect(t.Lines()[0]).To(Equal("1 connection(s), 10000 bytes written, 10000 bytes read"))
		Expect(t.Lines()).To(ContainElement(MatchRegexp(`^\.\.\. \d+ more events \.\.\.$`)))
		Expect(rep.Results[1].Timeline).To(BeNil(), "a pass carries no timeline")
		Expect(rep.Seed).To(Equal(engine.DefaultSeed))
		Expect(rep.TimeoutScale).To(Equal(1.0))
		Expect(rep.Exec).To(BeFalse())
	})
})
