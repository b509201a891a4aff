package main_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("echoconf grade --shard, --resume and merge", func() {
	DescribeTable("reject bad usage with exit 2 and a one-line message",
		func(msg string, args ...string) {
			s := echoconf(10*time.Second, args...)
			Expect(s.ExitCode()).To(Equal(2))
			errOut := string(s.Err.Contents())
			Expect(errOut).To(HavePrefix("echoconf: "))
			Expect(strings.Count(errOut, "\n")).To(Equal(1), errOut)
			Expect(errOut).To(ContainSubstring(msg))
			Expect(s.Out.Contents()).To(BeEmpty())
		},
		Entry("K = N", "--shard: invalid shard 3/3: K must be in 0..2 (shards count from 0)", "grade", "--shard", "3/3", "."),
		Entry("no N", `--shard: invalid shard "2": want K/N`, "grade", "--shard", "2", "."),
		Entry("N = 0", "N must be in 1..10000", "grade", "--shard", "0/0", "."),
		Entry("--resume without --out", "--resume needs --out DIR", "grade", "--resume", "."),
		Entry("merge without --out", "grade merge: --out DIR is required", "grade", "merge", "a", "b"),
		Entry("merge of nothing", "grade merge: want the --out directories of the runs to merge", "grade", "merge", "--out", "x"),
		Entry("merge of a directory that is no run", "has no grade.json: it is not the --out directory of an echoconf grade run",
			"grade", "merge", "--out", "x", "."),
	)
})
