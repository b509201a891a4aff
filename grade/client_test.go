package grade_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/grade"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// clientClass writes a class of echo clients: the textbook argument
// client, one that sends the NUL terminator, one that does not compile,
// one whose build makes no "client", and one whose build makes a "client"
// that is not a program.
func clientClass() string {
	GinkgoHelper()
	class := GinkgoT().TempDir()
	write := func(sub, name string, data []byte) {
		Expect(os.MkdirAll(filepath.Join(class, sub), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(class, sub, name), data, 0o644)).To(Succeed())
	}
	for sub, src := range map[string]string{"correct": "arg-client.c", "sends-nul": "sends-nul.c"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "c", "clients", src))
		Expect(err).NotTo(HaveOccurred())
		write(sub, "client.c", b)
	}
	write("no-build", "client.c", []byte("int main(void) { return missing_function() }\n"))
	write("no-client", "Makefile", []byte("all:\n\t@echo built nothing\n"))
	write("not-a-program", "Makefile", []byte("client:\n\techo 'just text' > client\n\tchmod +x client\n"))
	return class
}

// clientOptions grades argument clients, as gradeOptions does servers.
func clientOptions(out string, slot int) grade.Options {
	o := gradeOptions(out, slot)
	o.Client = &grade.ClientOptions{Shape: spec.ShapeArgument}
	return o
}

var _ = Describe("grading a class of echo clients", Ordered, func() {
	var class, single string
	var results []grade.Result

	BeforeAll(func() {
		requireToolchain()
		class, single = clientClass(), GinkgoT().TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		var err error
		results, err = grade.Grade(ctx, class, clientOptions(single, 0))
		Expect(err).NotTo(HaveOccurred())
	})

	It("scores each client with the client catalogue and rubric", func() {
		want := [][]string{
			grade.SummaryHeader[:len(grade.SummaryHeader)-1],
			{"correct", "100", "100", "pass", "", "true"},
			{"no-build", "0", "100", "build-failed", "build", "false"},
			{"no-client", "0", "100", "build-failed", "build", "false"},
			{"not-a-program", "0", "100", "build-failed", "build", "true"},
			{"sends-nul", "88", "100", "fail", "client/sends-exact", "true"},
		}
		if d := cmp.Diff(want, summaryRows(single)); d != "" {
			Fail("summary.csv (-want +got):\n" + d + failuresOf(results))
		}
		for _, r := range results {
			if r.Report == nil {
				continue
			}
			Expect(r.Report.Results).To(HaveLen(len(spec.Clients())))
			Expect(r.Report.Client).To(Equal(&engine.ClientInfo{Shape: "argument"}))
			Expect(r.Report.Target).To(Equal("./client {host} {message} {port}"))
		}
		byName := map[string]grade.Result{}
		for _, r := range results {
			byName[r.Submission] = r
		}
		Expect(byName["no-build"].BuildOutput).To(ContainSubstring("error: expected"))
		Expect(byName["no-client"].BuildOutput).To(ContainSubstring("built nothing"))
		Expect(byName["not-a-program"].BuildOutput).To(HaveSuffix("cannot run the exec command: the client \"./client {host} {message} {port}\" cannot be run: ./client: exec format error (neither a binary nor a script with a #! line)\n"))
	})

	It("records the client mode in grade.json, for merge and --resume", func() {
		m, err := grade.ReadManifest(single)
		Expect(err).NotTo(HaveOccurred())
		var ids []string
		for _, c := range spec.Clients() {
			ids = append(ids, c.ID)
		}
		want := grade.RunConfig{
			RubricSHA256: m.Config.RubricSHA256, Checks: ids, MaxScore: 100, Repeat: 1, TimeoutScale: 1,
			Binary: "client", Run: "./client {host} {message} {port}", ClientShape: "argument",
		}
		if d := cmp.Diff(want, m.Config); d != "" {
			Fail("the run's configuration (-want +got):\n" + d)
		}
		var rec struct {
			Verdict string         `json:"verdict"`
			Client  map[string]any `json:"client"`
		}
		b, err := os.ReadFile(filepath.Join(single, "sends-nul", grade.FileManifest))
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(b, &rec)).To(Succeed())
		if d := cmp.Diff(map[string]any{"shape": "argument", "tty": false}, rec.Client); d != "" {
			Fail("the submission's record (-want +got):\n" + d)
		}
		_, read, err := grade.ReadRun(single)
		Expect(err).NotTo(HaveOccurred())
		if d := cmp.Diff(results, read, sameGrades); d != "" {
			Fail("the results read back (-graded +read):\n" + d)
		}
	})

	It("merges shards into what one run writes", func() {
		shards := []string{GinkgoT().TempDir(), GinkgoT().TempDir()}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		for k, out := range shards {
			o := clientOptions(out, 1)
			o.Shard = grade.Shard{Index: k, Count: 2}
			_, err := grade.Grade(ctx, class, o)
			Expect(err).NotTo(HaveOccurred(), "shard %d/2", k)
		}
		merged := filepath.Join(GinkgoT().TempDir(), "merged")
		_, err := grade.Merge(merged, []string{shards[1], shards[0]})
		Expect(err).NotTo(HaveOccurred())
		wantM, want, err := grade.ReadRun(single)
		Expect(err).NotTo(HaveOccurred())
		gotM, got, err := grade.ReadRun(merged)
		Expect(err).NotTo(HaveOccurred())
		if d := cmp.Diff(wantM, gotM, sameGrades); d != "" {
			Fail("the manifests (-single +merged):\n" + d)
		}
		if d := cmp.Diff(want, got, sameGrades); d != "" {
			Fail("the results (-single +merged):\n" + d)
		}
		if d := cmp.Diff(summaryRows(single), summaryRows(merged)); d != "" {
			Fail("the summaries (-single +merged):\n" + d)
		}
		if d := cmp.Diff(filesUnder(single), filesUnder(merged)); d != "" {
			Fail("the files (-single +merged):\n" + d)
		}
	})

	It("resumes a client run as a client run, and refuses to resume it as another", func() {
		o := clientOptions(single, 0)
		o.Resume = true
		resumed := 0
		o.Progress = func(e grade.Event) {
			if e.Resumed {
				resumed++
			}
		}
		again, err := grade.Grade(context.Background(), class, o)
		Expect(err).NotTo(HaveOccurred())
		Expect(resumed).To(Equal(len(results)), "every complete result is kept")
		if d := cmp.Diff(results, again, sameGrades); d != "" {
			Fail("the resumed results (-graded +resumed):\n" + d)
		}

		o = clientOptions(single, 0)
		o.Resume = true
		o.Client.Shape, o.Run = spec.ShapeInteractive, "./client {host} {port}"
		_, err = grade.Grade(context.Background(), class, o)
		Expect(err).To(MatchError(And(ContainSubstring("another configuration"), ContainSubstring("client --shape (interactive vs argument)"))))
	})

	DescribeTable("refuses client options that cannot work, before building anything",
		func(edit func(*grade.Options), want string) {
			o := clientOptions("", 0)
			edit(&o)
			_, err := grade.Grade(context.Background(), class, o)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("an argument client without {message}", func(o *grade.Options) { o.Run = "./client {host} {port}" },
			"an argument client needs a {message}"),
		Entry("a stdin client with a {message}", func(o *grade.Options) { o.Client.Shape = spec.ShapeStream; o.Run = "./client {message} {port}" },
			"the stream shape reads its input from stdin"),
		Entry("a stream client on a terminal", func(o *grade.Options) { o.Client.Shape, o.Client.TTY = spec.ShapeStream, true },
			"drop --tty"),
		Entry("a UDP client", func(o *grade.Options) { o.Network = "udp" }, "over TCP only"),
		Entry("a server check", func(o *grade.Options) { o.Select = []string{"basic/small-message"} }, "matches no check"),
	)
})

var _ = Describe("grading a class of stream clients", func() {
	It("scores them with the stream rubric, where a deadlock costs client/large-stream's points", func() {
		requireToolchain()
		class := GinkgoT().TempDir()
		for sub, src := range map[string]string{"copies": "stream-client.c", "writes-first": "write-all-first.c"} {
			b, err := os.ReadFile(filepath.Join("..", "testdata", "c", "clients", src))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.MkdirAll(filepath.Join(class, sub), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(class, sub, "client.c"), b, 0o644)).To(Succeed())
		}
		o := gradeOptions("", 0)
		o.Client = &grade.ClientOptions{Shape: spec.ShapeStream}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		results, err := grade.Grade(ctx, class, o)
		Expect(err).NotTo(HaveOccurred())
		type row struct {
			Submission, Verdict string
			Score, MaxScore     float64
			FailedChecks        []string
		}
		var got []row
		for _, r := range results {
			got = append(got, row{r.Submission, r.Verdict, r.Score, r.MaxScore, r.FailedChecks})
			Expect(r.Report).NotTo(BeNil(), "%s: %v %s", r.Submission, r.Err, r.BuildOutput)
			Expect(r.Report.Target).To(Equal("./client {host} {port}"))
			Expect(r.Report.Client).To(Equal(&engine.ClientInfo{Shape: "stream"}))
		}
		want := []row{
			{"copies", grade.VerdictPass, 100, 100, nil},
			{"writes-first", grade.VerdictFail, 88, 100, []string{"client/large-stream"}},
		}
		if d := cmp.Diff(want, got); d != "" {
			Fail("the grades (-want +got):\n" + d + failuresOf(results))
		}
	})
})
