package grade_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/grade"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
	"github.com/echoconf/echoconf/internal/validate"
	"github.com/echoconf/echoconf/spec"
)

// classDir is the sample class: correct, faulty and hostile submissions.
var classDir = filepath.Join("..", "testdata", "class")

// testUIDBase is the first of the dedicated uids the class runs as when
// the test runs as root; nothing else on the machine uses them.
const testUIDBase = 61000

// expectedScores are the scores of the sample class with the default rubric.
var expectedScores = map[string]float64{
	"build-failure":       0,
	"correct":             100,
	"correct-make":        100,
	"endless-output":      0,
	"faulty-iterative":    80, // fails the three concurrency checks
	"forkbomb":            0,
	"infinite-loop":       0,
	"never-binds":         0,
	"wrong-port":          0,
	"sleeps-after-accept": 3, // it stays alive (robustness/server-alive)
}

func requireToolchain() {
	GinkgoHelper()
	for _, tool := range []string{"gcc", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			Skip(tool + " is not installed: the sample class cannot be built")
		}
	}
}

// gradeOptions grades with 2 jobs, writing the reports to out ("" for
// none). Concurrent gradings take different slots, so that as root they
// run as different uids.
func gradeOptions(out string, slot int) grade.Options {
	work := GinkgoT().TempDir()
	Expect(os.Chmod(work, 0o711)).To(Succeed(), "the unprivileged user must reach its work directory")
	o := grade.Options{Jobs: 2, Out: out, WorkDir: work}
	if os.Geteuid() == 0 {
		o.UIDBase = testUIDBase + 2*slot
	}
	return o
}

// failuresOf renders every failed or warned check of every result, one per
// line, for failure messages.
func failuresOf(results []grade.Result) string {
	var b strings.Builder
	for _, r := range results {
		if r.Report == nil {
			continue
		}
		for _, res := range r.Report.Results {
			if res.Status != engine.StatusPass && res.Status != engine.StatusSkip {
				fmt.Fprintf(&b, "  %s: %s %s: %v\n", r.Submission, res.Check.ID, res.Status, res.Err)
			}
		}
	}
	return b.String()
}

// testUIDs is how many dedicated uids the tests use (two slots of 2 jobs).
const testUIDs = 4

// classProcesses lists the processes still running as the class's
// dedicated uids ("PID UID COMMAND" lines).
func classProcesses() []string {
	out, err := exec.Command("ps", "-eo", "pid=,uid=,comm=").Output()
	Expect(err).NotTo(HaveOccurred())
	var left []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		uid, _ := strconv.Atoi(f[1])
		if uid >= testUIDBase && uid < testUIDBase+testUIDs {
			left = append(left, line)
		}
	}
	return left
}

var _ = Describe("grading the sample class", Ordered, func() {
	var (
		out     string
		results []grade.Result
	)

	// regraded is a second grading of the submissions whose scores could
	// depend on timing or on the machine's load: the faulty one, a correct
	// one, the fork bomb and the build failure. It runs after the first,
	// so that the test holds where no cgroups can be made too: there, a
	// fork bomb slows down the neighbouring slots (see the README on -j).
	var (
		regraded   []grade.Result
		regradeErr error
	)

	BeforeAll(func() {
		requireToolchain()
		out = GinkgoT().TempDir()
		again := GinkgoT().TempDir()
		for _, name := range []string{"correct", "faulty-iterative", "forkbomb", "build-failure"} {
			Expect(os.CopyFS(filepath.Join(again, name), os.DirFS(filepath.Join(classDir, name)))).To(Succeed())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		var err error
		results, err = grade.Grade(ctx, classDir, gradeOptions(out, 0))
		Expect(err).NotTo(HaveOccurred())
		regraded, regradeErr = grade.Grade(ctx, again, gradeOptions("", 1))
	})

	It("gives every submission its expected score", func() {
		got := map[string]float64{}
		for _, r := range results {
			got[r.Submission] = r.Score
			Expect(r.MaxScore).To(Equal(100.0), r.Submission)
			Expect(r.Err).NotTo(HaveOccurred(), r.Submission)
		}
		Expect(cmp.Diff(expectedScores, got)).To(BeEmpty(), "scores (-want +got); the failures:\n%s", failuresOf(results))
	})

	It("grades a build failure as a failed build with the compiler's output", func() {
		r := results[0]
		Expect(r.Submission).To(Equal("build-failure"))
		Expect(r.Verdict).To(Equal(grade.VerdictBuildFailed))
		Expect(r.BuildOK).To(BeFalse())
		Expect(r.FailedChecks).To(Equal([]string{"build"}))
		Expect(r.BuildOutput).To(ContainSubstring("error:"))
		Expect(r.BuildCommand).To(HavePrefix("gcc -O2 -Wall -pthread -o server"))

		var g render.GradescopeResults
		data, err := os.ReadFile(filepath.Join(out, "build-failure", grade.FileResults))
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(data, &g)).To(Succeed())
		Expect(g.Score).To(Equal(0.0))
		Expect(g.Tests).To(HaveLen(1))
		Expect(g.Tests[0].Name).To(Equal("build"))
		Expect(g.Tests[0].MaxScore).To(Equal(100.0))
		Expect(g.Tests[0].Output).To(ContainSubstring("error:"))
	})

	It("builds with the Makefile when there is one", func() {
		for _, r := range results {
			if r.Submission == "correct-make" {
				Expect(r.BuildCommand).To(Equal("make"))
				Expect(r.Verdict).To(Equal(grade.VerdictPass))
			}
		}
	})

	It("writes summary.csv with the documented columns", func() {
		f, err := os.Open(filepath.Join(out, grade.FileSummary))
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		Expect(err).NotTo(HaveOccurred())
		Expect(rows[0]).To(Equal([]string{"submission", "score", "max_score", "verdict", "failed_checks", "build_ok", "seconds"}))
		Expect(rows).To(HaveLen(1 + len(expectedScores)))
		byName := map[string][]string{}
		for _, row := range rows[1:] {
			Expect(row).To(HaveLen(7))
			byName[row[0]] = row
			_, err := strconv.ParseFloat(row[6], 64)
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(byName["correct"][:6]).To(Equal([]string{"correct", "100", "100", "pass", "", "true"}))
		Expect(byName["build-failure"][:6]).To(Equal([]string{"build-failure", "0", "100", "build-failed", "build", "false"}))
		Expect(byName["faulty-iterative"][3]).To(Equal("fail"))
		Expect(strings.Split(byName["faulty-iterative"][4], ";")).To(ContainElement("concurrency/idle-client"))
		Expect(strings.Split(byName["never-binds"][4], ";")).To(ContainElement("basic/small-message"))
		Expect(byName["never-binds"][5]).To(Equal("true"))
	})

	It("writes every report of every submission, and the class index", func() {
		for name := range expectedScores {
			for _, file := range []string{grade.FileResults, grade.FileJUnit, grade.FileText, grade.FileHTML} {
				info, err := os.Stat(filepath.Join(out, name, file))
				Expect(err).NotTo(HaveOccurred(), "%s/%s", name, file)
				Expect(info.Size()).To(BeNumerically(">", 0))
			}
		}
		index, err := os.ReadFile(filepath.Join(out, grade.FileIndex))
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Count(string(index), `<tr class="submission"`)).To(Equal(len(expectedScores)))
		Expect(string(index)).To(ContainSubstring(`href="correct/report.html"`))
	})

	It("writes JUnit that the Ant, Jenkins xunit and junit-4 schemas accept, for every submission", func() {
		for name := range expectedScores {
			for _, schema := range validate.JUnitSchemas {
				need(validate.XMLLint(schema, filepath.Join(out, name, grade.FileJUnit)))
			}
		}
	})

	It("heads every report with the submission's name, and says when a build failed", func() {
		for name := range expectedScores {
			text, err := os.ReadFile(filepath.Join(out, name, grade.FileText))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(text)).To(HavePrefix("Submission "+name+"\n"), name)
			page, err := os.ReadFile(filepath.Join(out, name, grade.FileHTML))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(page)).To(ContainSubstring(`<h1 class="subject" id="subject">`+name+`</h1>`), name)
		}
		page, err := os.ReadFile(filepath.Join(out, "build-failure", grade.FileHTML))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(page)).To(ContainSubstring("The submission did not build"))
		Expect(string(page)).To(MatchRegexp(`<span class="score-value">0</span><span class="score-max">/ 100 points</span>`))
		Expect(string(page)).To(MatchRegexp(`(?s)<pre class="build-output">.*error:.*</pre>`))
		Expect(string(page)).NotTo(ContainSubstring("The server does not conform"))
		screenshot(filepath.Join(out, "build-failure", grade.FileHTML), "build-failure.png", 1100, 700)
	})

	It("writes checks.csv beside summary.csv", func() {
		f, err := os.Open(filepath.Join(out, grade.FileChecks))
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		Expect(err).NotTo(HaveOccurred())
		Expect(rows[0]).To(Equal(grade.ChecksHeader))
		byID := map[string][]string{}
		for _, row := range rows[1:] {
			byID[row[0]] = row
		}
		idle := byID["concurrency/idle-client"]
		Expect(idle).NotTo(BeNil())
		Expect(strings.Split(idle[11], ";")).To(ContainElement("faulty-iterative"))
		Expect(idle[3]).To(Equal("2"), "correct and correct-make passed")
		Expect(idle[9]).To(Equal("1"), "build-failure did not run it")
		Expect(byID["basic/small-message"][11]).NotTo(ContainSubstring("faulty-iterative"))
	})

	It("draws the class page, self-contained, in chromium", func() {
		got := probeClassPage(filepath.Join(out, grade.FileIndex))
		Expect(got.Bars).To(Equal(len(spec.All())))
		Expect(got.BrokenLinks).To(BeZero())
		Expect(got.HistTotal).To(Equal(len(expectedScores)))
		Expect(got.Resources).To(BeZero())
		Expect(got.ExternalRefs).To(BeZero())
		Expect(got.Overflow).To(BeFalse())
		screenshot(filepath.Join(out, grade.FileIndex), "class-page.png", 1200, 1000)
	})

	It("bounds the endless output it keeps", func() {
		data, err := os.ReadFile(filepath.Join(out, "endless-output", grade.FileText))
		Expect(err).NotTo(HaveOccurred())
		Expect(len(data)).To(BeNumerically("<", 512<<10))
	})

	It("leaves nothing running", func() {
		if os.Geteuid() != 0 {
			Skip("not root: submissions ran as this user, whose other processes cannot be told apart")
		}
		Eventually(classProcesses).WithTimeout(5 * time.Second).Should(BeEmpty())
		for _, r := range results {
			Expect(r.Leftovers).To(BeZero(), r.Submission)
		}
		Expect(ownCgroups()).To(BeEmpty(), "every submission's cgroup is removed")
	})

	It("gives the same scores when the class is graded again", func() {
		Expect(regradeErr).NotTo(HaveOccurred())
		first := map[string]grade.Result{}
		for _, r := range results {
			first[r.Submission] = r
		}
		Expect(regraded).To(HaveLen(4))
		for _, r := range regraded {
			Expect(r.Score).To(Equal(first[r.Submission].Score), "%s; the failures:\n%s", r.Submission, failuresOf(regraded))
			Expect(r.FailedChecks).To(Equal(first[r.Submission].FailedChecks), r.Submission)
			Expect(r.Leftovers).To(BeZero(), r.Submission)
		}
	})
})

var _ = Describe("the class summary", func() {
	It("writes a CSV row per submission", func() {
		var buf bytes.Buffer
		Expect(grade.WriteSummaryCSV(&buf, []grade.Result{
			{Submission: "a,b", Score: 72.5, MaxScore: 100, Verdict: grade.VerdictFail, FailedChecks: []string{"x/y", "z/w"}, BuildOK: true, Duration: 1500 * time.Millisecond},
		})).To(Succeed())
		Expect(buf.String()).To(Equal("submission,score,max_score,verdict,failed_checks,build_ok,seconds\n\"a,b\",72.5,100,fail,x/y;z/w,true,1.5\n"))
	})
})

var _ = Describe("options", func() {
	DescribeTable("rejects bad options before building anything",
		func(o grade.Options, want string) {
			_, err := grade.Grade(context.Background(), classDir, o)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("a --run without {port}", grade.Options{Run: "./server 7"}, "{port}"),
		Entry("a --binary with a slash", grade.Options{Binary: "../x"}, "plain file name"),
		Entry("a check pattern that matches nothing", grade.Options{Select: []string{"nope/*"}}, "matches no check"),
		Entry("too many jobs", grade.Options{Jobs: 1000}, "want 1..64"),
		Entry("an unknown cgroup mode", grade.Options{Cgroups: "maybe"}, "want auto, required or off"),
		Entry("a CPU cap of nothing", grade.Options{CPUs: -1}, "want 0 (no cap) or 0.01..1024"),
	)

	It("rejects a class directory without submissions", func() {
		_, err := grade.Grade(context.Background(), GinkgoT().TempDir(), grade.Options{})
		Expect(err).To(MatchError(ContainSubstring("no submissions")))
	})
})
