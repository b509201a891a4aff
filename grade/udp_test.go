package grade_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/grade"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("grading UDP servers", func() {
	It("uses the udp catalogue and rubric, and its replay lines say --udp", func() {
		requireToolchain()
		class := GinkgoT().TempDir()
		for name, src := range map[string]string{
			"correct": "udp/recvfrom-server.c",
			"strlen":  "udp/faulty/strlen.c",
		} {
			b, err := os.ReadFile(filepath.Join("..", "testdata", "c", src))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.MkdirAll(filepath.Join(class, name), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(class, name, "server.c"), b, 0o644)).To(Succeed())
		}
		o := gradeOptions("", 1)
		o.Network = "udp"
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		results, err := grade.Grade(ctx, class, o)
		Expect(err).NotTo(HaveOccurred())
		Expect(results).To(HaveLen(2))
		byName := map[string]grade.Result{}
		for _, r := range results {
			byName[r.Submission] = r
			Expect(r.Report).NotTo(BeNil(), "%s: %v", r.Submission, r.Err)
			Expect(r.Report.Results).To(HaveLen(len(spec.UDP())))
			Expect(r.MaxScore).To(Equal(100.0))
		}
		Expect(byName["correct"].Verdict).To(Equal(grade.VerdictPass), failuresOf(results))
		Expect(byName["correct"].Score).To(Equal(100.0))
		bad := byName["strlen"]
		Expect(bad.Verdict).To(Equal(grade.VerdictFail))
		Expect(bad.FailedChecks).To(ContainElement("udp/all-byte-values"))
		Expect(bad.Score).To(BeNumerically("<", 50))
		for _, res := range bad.Report.Results {
			if res.Check.ID == "udp/all-byte-values" {
				Expect(render.Replay(bad.Report, res)).To(ContainSubstring(" --udp --exec "))
			}
		}
	})

	It("refuses an unknown network", func() {
		o := gradeOptions("", 1)
		o.Network = "sctp"
		_, err := grade.Grade(context.Background(), GinkgoT().TempDir(), o)
		Expect(err).To(MatchError(ContainSubstring(`unknown network "sctp"`)))
	})
})
