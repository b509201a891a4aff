package report_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("the default client rubrics", func() {
	// passing is a report on a client of the shape that passed every check
	// that applies to it; client/large-stream is skipped for the others,
	// as the engine skips it.
	passing := func(shape spec.Shape) *engine.Report {
		rep := &engine.Report{Client: &engine.ClientInfo{Shape: shape.String()}}
		for _, c := range spec.Clients() {
			res := engine.Result{Check: c, Status: engine.StatusPass, Runs: 1}
			if c.ID == "client/large-stream" && shape != spec.ShapeStream {
				res.Status, res.Err = engine.StatusSkip, &spec.Skipped{Reason: "applies to stream clients only"}
			}
			rep.Results = append(rep.Results, res)
		}
		return rep
	}

	DescribeTable("give 100 points to a client that passes every check of its shape",
		func(shape spec.Shape) {
			rb, err := report.DefaultClientRubric(shape)
			Expect(err).NotTo(HaveOccurred())
			Expect(rb.IDs()).To(HaveLen(len(spec.Clients())))
			score, maxScore := rb.Score(passing(shape))
			Expect([]float64{score, maxScore}).To(Equal([]float64{100, 100}))
			for _, c := range spec.Clients() {
				if c.ID == "client/large-stream" && shape != spec.ShapeStream {
					Expect(rb.Points(c.ID)).To(BeZero(), "%s does not apply to %s clients", c.ID, shape)
					continue
				}
				Expect(rb.Points(c.ID)).To(BeNumerically(">", 0), "the %s rubric gives %s no points", shape, c.ID)
			}
		},
		Entry("argument", spec.ShapeArgument),
		Entry("interactive", spec.ShapeInteractive),
		Entry("stream", spec.ShapeStream),
	)

	It("takes the deadlock's points from a stream client that deadlocks", func() {
		rb, err := report.DefaultClientRubric(spec.ShapeStream)
		Expect(err).NotTo(HaveOccurred())
		rep := passing(spec.ShapeStream)
		for i := range rep.Results {
			if rep.Results[i].Check.ID == "client/large-stream" {
				rep.Results[i].Status = engine.StatusFail
				rep.Results[i].Err = &spec.Failure{Kind: spec.KindDeadlock}
			}
		}
		score, maxScore := rb.Score(rep)
		Expect([]float64{score, maxScore}).To(Equal([]float64{100 - rb.Points("client/large-stream"), 100}))
	})

	It("is the text that --print-rubric prints, and refuses server checks", func() {
		for _, shape := range []spec.Shape{spec.ShapeArgument, spec.ShapeStream} {
			_, err := report.ParseRubric(report.DefaultClientRubricYAML(shape), spec.Clients())
			Expect(err).NotTo(HaveOccurred())
			_, err = report.ParseRubric(report.DefaultClientRubricYAML(shape), spec.All())
			Expect(err).To(MatchError(ContainSubstring(`unknown check ID "client/`)))
		}
		Expect(report.DefaultClientRubricYAML(spec.ShapeInteractive)).To(Equal(report.DefaultClientRubricYAML(spec.ShapeArgument)))
		Expect(report.DefaultClientRubricYAML(spec.ShapeStream)).NotTo(Equal(report.DefaultClientRubricYAML(spec.ShapeArgument)))
	})
})
