package grade_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/grade"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// shardOptions grades the basic checks only, which every kind of
// submission of the sample class still tells apart.
func shardOptions(out string, slot int, shard grade.Shard) grade.Options {
	o := gradeOptions(out, slot)
	o.Select = []string{"basic"}
	o.Shard = shard
	return o
}

// portRE matches the port in a server's command line; addrRE, a local
// address in a message.
var (
	portRE = regexp.MustCompile(`\b\d{4,5}\b`)
	addrRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// sameGrades compares results as a grader reads them: everything but the
// timings, the server's PID and the free port it was given. Errors compare
// by their full diagnosis (spec.Failure.Report: kind, diagnosis, counts,
// hex windows, cause), except how a server failed to start: wrong-port
// binds the port after the one it was given, and whether that one is free
// (it then never accepts) or taken (it exits) depends on the machine at
// that moment, as the port itself does.
var sameGrades = cmp.Options{
	cmpopts.IgnoreFields(grade.Result{}, "Duration"),
	cmpopts.IgnoreFields(engine.Report{}, "Started", "Duration"),
	// A timeline records when and in what pieces the bytes moved: timing.
	cmpopts.IgnoreFields(engine.Result{}, "Duration", "Timeline"),
	cmpopts.IgnoreFields(engine.ServerInfo{}, "PID"),
	cmpopts.IgnoreFields(spec.Check{}, "Run"),
	cmpopts.IgnoreFields(grade.Manifest{}, "Started", "DurationMS"),
	cmpopts.EquateEmpty(),
	cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".Command" || p.Last().String() == ".Target"
	}, cmp.Transformer("port", func(s string) string { return portRE.ReplaceAllString(s, "PORT") })),
	cmp.Transformer("startup", func(r engine.Report) engine.Report {
		for _, res := range r.Results {
			if f := res.Failure(); f != nil && strings.Contains(f.Detail, "the server failed to start") && r.Server != nil {
				s := *r.Server
				s.Exit = "" // whether it exited depends on the port, as above
				r.Server = &s
				break
			}
		}
		return r
	}),
	cmp.Transformer("diagnosis", func(err error) string {
		if err == nil {
			return ""
		}
		text := err.Error()
		if f, ok := err.(*spec.Failure); ok {
			text = f.Report()
			if strings.Contains(f.Detail, "the server failed to start") {
				return "the server failed to start"
			}
		}
		return addrRE.ReplaceAllString(text, "127.0.0.1:PORT")
	}),
}

// summaryRows reads summary.csv without its timing column.
func summaryRows(dir string) [][]string {
	GinkgoHelper()
	f, err := os.Open(filepath.Join(dir, grade.FileSummary))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	Expect(err).NotTo(HaveOccurred())
	for i := range rows {
		Expect(rows[i]).To(HaveLen(len(grade.SummaryHeader)))
		rows[i] = rows[i][:len(rows[i])-1]
	}
	return rows
}

// filesUnder lists the files under dir, relative to it.
func filesUnder(dir string) []string {
	GinkgoHelper()
	var files []string
	Expect(filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files = append(files, rel)
		return err
	})).To(Succeed())
	sort.Strings(files)
	return files
}

var _ = Describe("grading a class in shards", Ordered, func() {
	var single, merged string
	var shards []string
	var names []string

	BeforeAll(func() {
		requireToolchain()
		var err error
		names, err = grade.Submissions(classDir)
		Expect(err).NotTo(HaveOccurred())
		single, merged = GinkgoT().TempDir(), filepath.Join(GinkgoT().TempDir(), "merged")
		shards = []string{GinkgoT().TempDir(), GinkgoT().TempDir(), GinkgoT().TempDir()}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// The whole class and its shards are graded at the same time, in
		// different slots (different uids as root).
		var wg sync.WaitGroup
		var singleErr error
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			_, singleErr = grade.Grade(ctx, classDir, shardOptions(single, 2, grade.Shard{}))
		}()
		for k, out := range shards {
			_, err := grade.Grade(ctx, classDir, shardOptions(out, 3, grade.Shard{Index: k, Count: 3}))
			Expect(err).NotTo(HaveOccurred(), "shard %d/3", k)
		}
		wg.Wait()
		Expect(singleErr).NotTo(HaveOccurred())
		_, err = grade.Merge(merged, []string{shards[2], shards[0], shards[1]})
		Expect(err).NotTo(HaveOccurred())
	})

	It("grades disjoint shards that cover the class exactly once", func() {
		var all []string
		for k, out := range shards {
			m, results, err := grade.ReadRun(out)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.Shard).To(Equal(fmt.Sprintf("%d/3", k)))
			Expect(m.Class).To(Equal(names))
			Expect(m.Complete).To(BeTrue())
			Expect(len(results)).To(BeNumerically("~", len(names)/3, 1))
			for _, r := range results {
				all = append(all, r.Submission)
			}
		}
		sort.Strings(all)
		Expect(all).To(Equal(names))
	})

	It("merges into what one run of the whole class writes, timings aside", func() {
		wantM, want, err := grade.ReadRun(single)
		Expect(err).NotTo(HaveOccurred())
		gotM, got, err := grade.ReadRun(merged)
		Expect(err).NotTo(HaveOccurred())
		Expect(want).To(HaveLen(len(names)))
		noDiff := func(what string, d string) {
			GinkgoHelper()
			if d != "" {
				Fail(what + " differ (-single +merged):\n" + d)
			}
		}
		noDiff("the manifests", cmp.Diff(wantM, gotM, sameGrades))
		noDiff("the results", cmp.Diff(want, got, sameGrades))
		noDiff("the summaries", cmp.Diff(summaryRows(single), summaryRows(merged)))
		noDiff("the files", cmp.Diff(filesUnder(single), filesUnder(merged)))
		var failed int
		for _, r := range got {
			if r.Verdict != grade.VerdictPass {
				failed++
			}
		}
		Expect(failed).To(BeNumerically(">=", 5), "the comparison covers failing submissions too")
	})

	It("renders the class page of the merged run from every submission", func() {
		index, err := os.ReadFile(filepath.Join(merged, grade.FileIndex))
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Count(string(index), `<tr class="submission"`)).To(Equal(len(names)))
		for _, n := range names {
			Expect(string(index)).To(ContainSubstring(`href="` + n + `/report.html"`))
		}
	})

	It("copies every submission's reports byte for byte", func() {
		for _, n := range names {
			for _, f := range []string{grade.FileResults, grade.FileJUnit, grade.FileText, grade.FileHTML, grade.FileManifest} {
				got, err := os.ReadFile(filepath.Join(merged, n, f))
				Expect(err).NotTo(HaveOccurred())
				var want []byte
				for _, s := range shards {
					if w, err := os.ReadFile(filepath.Join(s, n, f)); err == nil {
						want = w
					}
				}
				Expect(string(got) == string(want)).To(BeTrue(), "%s/%s differs from its shard's", n, f)
			}
		}
	})

	DescribeTable("refuses runs that cannot be merged, naming what is wrong",
		func(edit func(dirs []string) []string, want string) {
			dirs := make([]string, len(shards))
			for i, s := range shards {
				dirs[i] = filepath.Join(GinkgoT().TempDir(), fmt.Sprintf("shard%d", i))
				Expect(os.CopyFS(dirs[i], os.DirFS(s))).To(Succeed())
			}
			out := filepath.Join(GinkgoT().TempDir(), "out")
			_, err := grade.Merge(out, edit(dirs))
			Expect(err).To(MatchError(MatchRegexp(want)))
			_, statErr := os.Stat(out)
			Expect(os.IsNotExist(statErr)).To(BeTrue(), "nothing is written")
		},
		Entry("a missing shard", func(d []string) []string { return []string{d[0], d[2]} },
			`a shard is missing: 1/3 \(submissions? [a-z-]+`),
		Entry("a shard given twice", func(d []string) []string { return []string{d[0], d[1], d[2], d[1]} },
			`submission "[a-z-]+" is graded twice: in .*shard1 and in .*shard1`),
		Entry("a run that did not finish", func(d []string) []string {
			editManifest(d[1], func(m map[string]any) { m["complete"] = false })
			return d
		}, `shard1: its run \(shard 1/3\) did not finish; run it again with --resume`),
		Entry("another echoconf version", func(d []string) []string {
			editManifest(d[2], func(m map[string]any) { m["echoconf_version"] = "v0.9.0" })
			return d
		}, `refusing to merge results of different echoconf versions: .*shard0 has .*, .*shard2 has v0.9.0`),
		Entry("another class", func(d []string) []string {
			editManifest(d[2], func(m map[string]any) { m["class"] = append(m["class"].([]any), "zed") })
			return d
		}, `refusing to merge runs that saw different classes: only .*shard2 has submission zed`),
	)

	It("refuses runs graded with different rubrics", func() {
		// A class of one build failure grades in a moment, with any rubric.
		class := GinkgoT().TempDir()
		Expect(os.CopyFS(filepath.Join(class, "build-failure"), os.DirFS(filepath.Join(classDir, "build-failure")))).To(Succeed())
		rubric := filepath.Join(GinkgoT().TempDir(), "rubric.yaml")
		Expect(os.WriteFile(rubric, []byte("categories:\n  basic: 20\n  large: 80\n"), 0o644)).To(Succeed())
		other := gradeOptions(GinkgoT().TempDir(), 2)
		other.Select = []string{"basic"}
		var err error
		other.Rubric, err = report.LoadRubric(rubric, spec.All())
		Expect(err).NotTo(HaveOccurred())
		other.Shard = grade.Shard{Index: 1, Count: 2}
		_, err = grade.Grade(context.Background(), class, other)
		Expect(err).NotTo(HaveOccurred())
		base := shardOptions(GinkgoT().TempDir(), 2, grade.Shard{Index: 0, Count: 2})
		_, err = grade.Grade(context.Background(), class, base)
		Expect(err).NotTo(HaveOccurred())
		_, err = grade.Merge(filepath.Join(GinkgoT().TempDir(), "out"), []string{base.Out, other.Out})
		Expect(err).To(MatchError(MatchRegexp(`refusing to merge results graded differently: .* differ in rubric \(sha256:\w+ vs sha256:\w+\)`)))
	})
})

// editManifest rewrites DIR/grade.json through edit.
func editManifest(dir string, edit func(map[string]any)) {
	GinkgoHelper()
	path := filepath.Join(dir, grade.FileManifest)
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var m map[string]any
	Expect(json.Unmarshal(data, &m)).To(Succeed())
	edit(m)
	data, err = json.Marshal(m)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(path, data, 0o644)).To(Succeed())
}

var _ = Describe("resuming a stopped run", func() {
	It("keeps the complete results and grades the rest", func() {
		requireToolchain()
		class := GinkgoT().TempDir()
		for _, n := range []string{"build-failure", "correct", "faulty-iterative"} {
			Expect(os.CopyFS(filepath.Join(class, n), os.DirFS(filepath.Join(classDir, n)))).To(Succeed())
		}
		out := GinkgoT().TempDir()

		// The first run is stopped as soon as the second submission starts:
		// the first is complete, the second in flight, the third not begun.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		o := shardOptions(out, 2, grade.Shard{})
		o.Jobs = 1
		o.Progress = func(e grade.Event) {
			if e.Kind == grade.EventStart && e.Submission == "correct" {
				cancel()
			}
		}
		_, err := grade.Grade(ctx, class, o)
		Expect(err).NotTo(HaveOccurred())
		m, err := grade.ReadManifest(out)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Complete).To(BeFalse())
		Expect(filepath.Join(out, "build-failure", grade.FileManifest)).To(BeARegularFile())
		Expect(filepath.Join(out, "correct", grade.FileManifest)).NotTo(BeAnExistingFile(), "an interrupted submission is not complete")
		_, err = grade.Merge(filepath.Join(GinkgoT().TempDir(), "out"), []string{out})
		Expect(err).To(MatchError(ContainSubstring("did not finish")))

		// A resume with other options is refused.
		bad := shardOptions(out, 2, grade.Shard{})
		bad.Resume, bad.Strict = true, true
		_, err = grade.Grade(context.Background(), class, bad)
		Expect(err).To(MatchError(ContainSubstring("--resume: " + out + " was graded with another configuration: --strict (true vs false)")))
		bad = shardOptions(out, 2, grade.Shard{Index: 1, Count: 2})
		bad.Resume = true
		_, err = grade.Grade(context.Background(), class, bad)
		Expect(err).To(MatchError(ContainSubstring("holds shard 0/1, not 1/2")))

		var resumed, graded []string
		o = shardOptions(out, 2, grade.Shard{})
		o.Resume = true
		o.Progress = func(e grade.Event) {
			if e.Kind != grade.EventDone {
				return
			}
			if e.Resumed {
				resumed = append(resumed, e.Submission)
			} else {
				graded = append(graded, e.Submission)
			}
		}
		results, err := grade.Grade(context.Background(), class, o)
		Expect(err).NotTo(HaveOccurred())
		Expect(resumed).To(Equal([]string{"build-failure"}))
		Expect(graded).To(ConsistOf("correct", "faulty-iterative"))
		Expect(results).To(HaveLen(3))
		Expect(results[0].Verdict).To(Equal(grade.VerdictBuildFailed))
		Expect(results[1].Score).To(Equal(20.0))
		Expect(results[2].Score).To(Equal(20.0))
		m, err = grade.ReadManifest(out)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Complete).To(BeTrue())
		Expect(summaryRows(out)).To(HaveLen(4))
	})
})

var _ = Describe("shards", func() {
	DescribeTable("parse K/N",
		func(s string, want grade.Shard, wantErr string) {
			got, err := grade.ParseShard(s)
			if wantErr != "" {
				Expect(err).To(MatchError(ContainSubstring(wantErr)))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		Entry("the first of three", "0/3", grade.Shard{Index: 0, Count: 3}, ""),
		Entry("the last of three", "2/3", grade.Shard{Index: 2, Count: 3}, ""),
		Entry("the whole class", "0/1", grade.Shard{Index: 0, Count: 1}, ""),
		Entry("K = N", "3/3", grade.Shard{}, "K must be in 0..2 (shards count from 0)"),
		Entry("a negative K", "-1/3", grade.Shard{}, "K must be in 0..2"),
		Entry("no shards", "0/0", grade.Shard{}, "N must be in 1..10000"),
		Entry("no slash", "1", grade.Shard{}, "want K/N"),
		Entry("words", "a/b", grade.Shard{}, "must be integers"),
	)

	It("split any class into disjoint, balanced shards that cover it", func() {
		for n := 0; n <= 40; n++ {
			class := make([]string, n)
			for i := range class {
				class[i] = fmt.Sprintf("s%03d", i)
			}
			for count := 1; count <= 7; count++ {
				seen := map[string]int{}
				for k := 0; k < count; k++ {
					part := grade.Shard{Index: k, Count: count}.Of(class)
					Expect(len(part)).To(BeNumerically("~", float64(n)/float64(count), 1))
					for _, s := range part {
						seen[s]++
					}
				}
				Expect(seen).To(HaveLen(n))
				for s, times := range seen {
					Expect(times).To(Equal(1), s)
				}
			}
		}
	})
})

var _ = Describe("the comparison of a single run with merged shards", func() {
	startup := &spec.Failure{Kind: spec.KindRefused, Offset: -1, Detail: "the server failed to start; no check could run"}
	other := &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Received: 3}
	result := func(f *spec.Failure, exit string, port int) grade.Result {
		return grade.Result{Submission: "s", Report: &engine.Report{
			Results: []engine.Result{{Check: spec.Check{ID: "basic/x"}, Status: engine.StatusFail, Err: f}},
			Server:  &engine.ServerInfo{Command: fmt.Sprintf("./server %d", port), Exit: exit},
		}}
	}
	DescribeTable("sets aside only what the machine decides",
		func(a, b grade.Result, same bool) {
			Expect(cmp.Diff([]grade.Result{a}, []grade.Result{b}, sameGrades) == "").To(Equal(same))
		},
		Entry("another port", result(other, "", 40001), result(other, "", 40999), true),
		Entry("a failed start told another way", result(startup, "exit status 1", 1), result(startup, "", 1), true),
		Entry("another exit after a start", result(other, "exit status 1", 1), result(other, "", 1), false),
		Entry("another byte count", result(other, "", 1), result(&spec.Failure{Kind: spec.KindTimeout, Offset: -1, Received: 4}, "", 1), false),
	)
})
