package grade_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/grade"
)

var _ = Describe("a submission whose server cannot run", func() {
	It("scores 0 as a build that left no server, not as ungraded", func() {
		requireToolchain()
		class := GinkgoT().TempDir()
		sub := filepath.Join(class, "missing-tool")
		Expect(os.MkdirAll(sub, 0o755)).To(Succeed())
		// It builds, but the server it builds runs a program that does not
		// exist: the shell exits 126 or 127 before anything listens.
		makefile := "server:\n\tprintf '#!/bin/sh\\nexec no-such-echo-tool \"$$@\"\\n' > server\n\tchmod +x server\n"
		Expect(os.WriteFile(filepath.Join(sub, "Makefile"), []byte(makefile), 0o644)).To(Succeed())
		o := gradeOptions("", 1)
		o.Select = []string{"basic/small-message"}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		results, err := grade.Grade(ctx, class, o)
		Expect(err).NotTo(HaveOccurred())
		Expect(results).To(HaveLen(1))
		r := results[0]
		Expect(r.Verdict).To(Equal(grade.VerdictBuildFailed), "%v", r.Err)
		Expect(r.Score).To(BeZero())
		Expect(r.Err).NotTo(HaveOccurred())
		Expect(r.BuildOutput).To(MatchRegexp(`ended with exit status 12[67] before it listened`))
	})
})
