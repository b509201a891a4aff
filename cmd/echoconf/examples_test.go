package main_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/grade"
	"github.com/echoconf/echoconf/internal/render"
)

// The examples are run as far as this machine allows: their own shell
// steps and container commands, with the echoconf binary under test in
// place of the released one, on a small class graded on the basic checks.

var examplesDir = filepath.Join("..", "..", "examples")

// fastGrade keeps the example runs short; the grade package's tests cover
// the whole catalogue.
const fastGrade = "--select basic --startup-timeout 2s"

// exampleUIDBase is the first of the dedicated uids the examples' gradings
// run as in these tests, when root: never nobody, whose processes the grade
// package's tests watch, and never the grade package's uids (61000+).
const exampleUIDBase = 63000

// smallClass copies three submissions of the sample class into dir/sub.
func smallClass(dir, sub string) string {
	GinkgoHelper()
	class := filepath.Join(dir, sub)
	for _, n := range []string{"build-failure", "correct", "faulty-iterative"} {
		Expect(os.CopyFS(filepath.Join(class, n), os.DirFS(filepath.Join("..", "..", "testdata", "class", n)))).To(Succeed())
	}
	return class
}

// shell runs script with bash as GitHub Actions does (bash --noprofile
// --norc -eo pipefail FILE), in dir, with env, in its own process group,
// and returns its combined output and exit code.
func shell(dir string, env []string, script string, timeout time.Duration) (string, int) {
	GinkgoHelper()
	file := filepath.Join(GinkgoT().TempDir(), "step.sh")
	Expect(os.WriteFile(file, []byte(script), 0o644)).To(Succeed())
	return runIn(dir, env, timeout, "bash", "--noprofile", "--norc", "-eo", "pipefail", file)
}

// runIn runs a command in dir with env, in its own process group, which it
// kills when the command ends or times out.
func runIn(dir string, env []string, timeout time.Duration, name string, args ...string) (string, int) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	Expect(ctx.Err()).NotTo(HaveOccurred(), "%s timed out:\n%s", name, out)
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		Expect(ok).To(BeTrue(), "%s: %v", name, err)
		code = ee.ExitCode()
	}
	return string(out), code
}

// baseEnv is a clean environment with the echoconf under test first on
// PATH.
func baseEnv(extra ...string) []string {
	return append([]string{"PATH=" + filepath.Dir(echoconfBin) + ":" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LANG=C"}, extra...)
}

// summaryOf reads a summary.csv into rows keyed by submission.
func summaryOf(path string) map[string][]string {
	GinkgoHelper()
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	Expect(err).NotTo(HaveOccurred())
	Expect(rows[0]).To(Equal(grade.SummaryHeader))
	m := map[string][]string{}
	for _, r := range rows[1:] {
		m[r[0]] = r[:4]
	}
	return m
}

// wantSmallClass is the summary of smallClass graded on the basic checks.
var wantSmallClass = map[string][]string{
	"build-failure":    {"build-failure", "0", "20", "build-failed"},
	"correct":          {"correct", "20", "20", "pass"},
	"faulty-iterative": {"faulty-iterative", "20", "20", "pass"},
}

// A GitHub Actions workflow, as far as these tests read it.
type workflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]struct {
		Needs    any               `yaml:"needs"`
		Env      map[string]string `yaml:"env"`
		Strategy struct {
			Matrix map[string][]any `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []workflowStep `yaml:"steps"`
	} `yaml:"jobs"`
}

type workflowStep struct {
	Name string            `yaml:"name"`
	ID   string            `yaml:"id"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

func readWorkflow(path string) workflow {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var w workflow
	Expect(yaml.Unmarshal(data, &w)).To(Succeed())
	return w
}

var exprRE = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// expand replaces the ${{ ... }} expressions of s from values, and fails
// on one it does not know.
func expand(s string, values map[string]string) string {
	GinkgoHelper()
	return exprRE.ReplaceAllStringFunc(s, func(m string) string {
		key := exprRE.FindStringSubmatch(m)[1]
		v, ok := values[key]
		Expect(ok).To(BeTrue(), "the test does not know the expression %s", m)
		return v
	})
}

// stepEnv is the environment of a run step: the workflow's, the job's and
// the step's variables, expanded, then overrides.
func stepEnv(values map[string]string, overrides map[string]string, maps ...map[string]string) []string {
	GinkgoHelper()
	merged := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			merged[k] = expand(v, values)
		}
	}
	for k, v := range overrides {
		merged[k] = v
	}
	var env []string
	for k, v := range merged {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return baseEnv(env...)
}

var _ = Describe("the GitHub Actions example", func() {
	It("grades a class shard by shard with the workflow's own steps, then merges it", func() {
		if os.Geteuid() != 0 {
			if _, err := exec.LookPath("sudo"); err != nil {
				Skip("not root and no sudo: the workflow's grade step uses sudo when not root")
			}
		}
		w := readWorkflow(filepath.Join(examplesDir, "github-actions", "grade-class.yml"))
		repo := GinkgoT().TempDir()
		smallClass(repo, w.Env["CLASS_DIR"])
		artifacts := GinkgoT().TempDir()
		// overrides gives the grade step of shard k its own uids (2 per
		// shard: grade -j 2), so that the shards can run at once.
		overrides := func(k int) map[string]string {
			return map[string]string{"GRADE_FLAGS": fastGrade + " --uid-base " + strconv.Itoa(exampleUIDBase+100+2*k)}
		}

		// runJob runs the steps of one job in a fresh workspace, as a
		// runner would, with artifacts passed through the artifacts dir.
		runJob := func(name string, values map[string]string, checkout bool, overrides map[string]string) string {
			job := w.Jobs[name]
			ws := GinkgoT().TempDir()
			summary := filepath.Join(GinkgoT().TempDir(), "summary.md")
			installed := false
			for _, st := range job.Steps {
				switch {
				case strings.HasPrefix(st.Uses, "actions/checkout@"):
					Expect(checkout).To(BeTrue(), "job %s checks out", name)
					Expect(os.CopyFS(ws, os.DirFS(repo))).To(Succeed())
				case st.ID == "install-echoconf":
					// The released binary is downloaded here; the test puts
					// the binary under test in its place.
					Expect(st.Run).To(ContainSubstring("-o echoconf"))
					data, err := os.ReadFile(echoconfBin)
					Expect(err).NotTo(HaveOccurred())
					Expect(os.WriteFile(filepath.Join(ws, "echoconf"), data, 0o755)).To(Succeed())
					installed = true
				case strings.HasPrefix(st.Uses, "actions/upload-artifact@"):
					src := filepath.Join(ws, expand(st.With["path"], values))
					Expect(os.CopyFS(filepath.Join(artifacts, expand(st.With["name"], values)), os.DirFS(src))).To(Succeed())
				case strings.HasPrefix(st.Uses, "actions/download-artifact@"):
					matches, err := filepath.Glob(filepath.Join(artifacts, st.With["pattern"]))
					Expect(err).NotTo(HaveOccurred())
					Expect(matches).NotTo(BeEmpty())
					for _, m := range matches {
						Expect(os.CopyFS(filepath.Join(ws, st.With["path"], filepath.Base(m)), os.DirFS(m))).To(Succeed())
					}
				case st.Run != "":
					Expect(installed).To(BeTrue(), "echoconf is installed before %q", st.Name)
					env := stepEnv(values, overrides, w.Env, job.Env, st.Env)
					env = append(env, "GITHUB_STEP_SUMMARY="+summary, "GITHUB_WORKSPACE="+ws)
					out, code := shell(ws, env, expand(st.Run, values), 3*time.Minute)
					Expect(code).To(BeZero(), "job %s, step %q:\n%s", name, st.Name, out)
				default:
					Fail(fmt.Sprintf("job %s: the test does not know step %q (%s)", name, st.Name, st.Uses))
				}
			}
			return summary
		}

		shards := w.Jobs["grade"].Strategy.Matrix["shard"]
		Expect(len(shards)).To(BeNumerically(">", len(wantSmallClass)), "a shard with no submission is graded too")
		// The matrix's jobs run at once, as on GitHub's runners.
		concurrently(len(shards), len(shards), func(k int) {
			runJob("grade", map[string]string{
				"strategy.job-index": strconv.Itoa(k), "strategy.job-total": strconv.Itoa(len(shards)),
				"matrix.shard": fmt.Sprint(shards[k]),
			}, true, overrides(k))
		})
		Expect(w.Jobs["merge"].Needs).To(Equal("grade"))
		stepSummary := runJob("merge", nil, false, overrides(0))

		results := filepath.Join(artifacts, "class-results")
		Expect(summaryOf(filepath.Join(results, grade.FileSummary))).To(Equal(wantSmallClass))
		m, err := grade.ReadManifest(results)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Complete).To(BeTrue())
		Expect(m.Submissions).To(HaveLen(len(wantSmallClass)))
		Expect(filepath.Join(results, grade.FileIndex)).To(BeARegularFile())
		Expect(filepath.Join(results, "correct", grade.FileResults)).To(BeARegularFile())
		md, err := os.ReadFile(stepSummary)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(md)).To(ContainSubstring("correct,20,20,pass,"))
	})
})

// A Kubernetes Job, as far as these tests read it.
type kubeJob struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Spec       struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				Containers []struct {
					Command []string `yaml:"command"`
					Args    []string `yaml:"args"`
					Env     []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func readKubeJob(name string) kubeJob {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(examplesDir, "kubernetes", name))
	Expect(err).NotTo(HaveOccurred())
	var j kubeJob
	Expect(yaml.Unmarshal(data, &j)).To(Succeed())
	Expect(j.APIVersion).To(Equal("batch/v1"))
	Expect(j.Kind).To(Equal("Job"))
	Expect(j.Spec.Template.Spec.Containers).To(HaveLen(1))
	return j
}

// runContainer runs the Job's container command locally: its env, with
// overrides for the volumes' mount points and the test's settings.
func runContainer(j kubeJob, overrides map[string]string) (string, int) {
	GinkgoHelper()
	c := j.Spec.Template.Spec.Containers[0]
	vars := map[string]string{}
	for _, e := range c.Env {
		vars[e.Name] = e.Value
	}
	for k, v := range overrides {
		_, known := vars[k]
		Expect(known || k == "JOB_COMPLETION_INDEX").To(BeTrue(), "the container has no variable %s", k)
		vars[k] = v
	}
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	argv := append(append([]string{}, c.Command...), c.Args...)
	return runIn(GinkgoT().TempDir(), baseEnv(env...), 3*time.Minute, argv[0], argv[1:]...)
}

var _ = Describe("the Kubernetes example", func() {
	It("grades each index's shard with the container's command, resumes a restarted pod, and merges", func() {
		job := readKubeJob("grade-job.yaml")
		Expect(job.Spec.CompletionMode).To(Equal("Indexed"))
		n := job.Spec.Completions
		Expect(n).To(BeNumerically(">", len(wantSmallClass)), "a shard with no submission is graded too")
		for _, e := range job.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "SHARDS" {
				Expect(e.Value).To(Equal(strconv.Itoa(n)), "SHARDS is the Job's completions")
			}
		}
		class := smallClass(GinkgoT().TempDir(), "class")
		results := GinkgoT().TempDir()
		for k := 0; k < n; k++ {
			over := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(k), "CLASS_DIR": class, "RESULTS_DIR": results,
				"GRADE_FLAGS": fastGrade, "UID_BASE": strconv.Itoa(exampleUIDBase + 4*k)}
			out, code := runContainer(job, over)
			Expect(code).To(BeZero(), "index %d:\n%s", k, out)
			if k == 1 {
				// The pod of index 1 is replaced: its shard resumes.
				out, code = runContainer(job, over)
				Expect(code).To(BeZero(), "index %d again:\n%s", k, out)
				Expect(out).To(MatchRegexp(`graded 1/1: \S+: .*, from the previous run`))
			}
		}
		merge := readKubeJob("merge-job.yaml")
		out, code := runContainer(merge, map[string]string{"RESULTS_DIR": results})
		Expect(code).To(BeZero(), out)
		Expect(summaryOf(filepath.Join(results, "class", grade.FileSummary))).To(Equal(wantSmallClass))
		// The merge Job can run again.
		out, code = runContainer(merge, map[string]string{"RESULTS_DIR": results})
		Expect(code).To(BeZero(), out)
	})

	It("validates against the Kubernetes schema", func() {
		validator, err := exec.LookPath("kubectl-validate")
		if err != nil {
			Skip("kubectl-validate is not installed (go install sigs.k8s.io/kubectl-validate@v0.0.4): the manifests are not validated here")
		}
		// 1.30 is the newest Kubernetes whose schemas kubectl-validate
		// v0.0.4 carries, so it validates offline.
		validate := func(files ...string) (string, int) {
			return runIn(examplesDir, baseEnv(), 2*time.Minute, validator, append(files, "--version", "1.30")...)
		}
		out, code := validate(filepath.Join("kubernetes", "grade-job.yaml"), filepath.Join("kubernetes", "merge-job.yaml"))
		Expect(code).To(BeZero(), out)

		// The same validator refuses a Job with a misspelt field.
		data, err := os.ReadFile(filepath.Join(examplesDir, "kubernetes", "grade-job.yaml"))
		Expect(err).NotTo(HaveOccurred())
		bad, err := filepath.Abs(filepath.Join(GinkgoT().TempDir(), "bad-job.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(bad, []byte(strings.Replace(string(data), "completionMode:", "completionmode:", 1)), 0o644)).To(Succeed())
		out, code = validate(bad)
		Expect(code).NotTo(BeZero(), out)
		Expect(out).To(ContainSubstring("completionmode"))
	})
})

var _ = Describe("the GitHub Classroom example", func() {
	It("awards each check's rubric points with the command grader's commands", func() {
		if _, err := exec.LookPath("jq"); err != nil {
			Skip("jq is not installed (GitHub's ubuntu runners have it): the graders' commands cannot run here")
		}
		w := readWorkflow(filepath.Join(examplesDir, "github-classroom", ".github", "workflows", "classroom.yml"))
		job := w.Jobs["run-autograding-tests"]
		rubric, err := report.DefaultRubric()
		Expect(err).NotTo(HaveOccurred())

		var check workflowStep
		var graders []workflowStep
		points := map[string]float64{}
		var runners []string
		var reporter workflowStep
		for _, st := range job.Steps {
			switch {
			case st.ID == "echoconf":
				check = st
			case strings.HasPrefix(st.Uses, "classroom-resources/autograding-command-grader@"):
				graders = append(graders, st)
				p, err := strconv.ParseFloat(st.With["max-score"], 64)
				Expect(err).NotTo(HaveOccurred())
				points[st.With["test-name"]] = p
				runners = append(runners, st.ID)
			case strings.HasPrefix(st.Uses, "classroom-resources/autograding-grading-reporter@"):
				reporter = st
			}
		}
		want := map[string]float64{}
		for _, id := range rubric.IDs() {
			want[id] = rubric.Points(id)
		}
		Expect(points).To(Equal(want), "one test per check, worth its points in the default rubric")
		Expect(reporter.With["runners"]).To(Equal(strings.Join(runners, ",")))
		for _, id := range runners {
			Expect(reporter.Env).To(HaveKeyWithValue(strings.ToUpper(id)+"_RESULTS", "${{steps."+id+".outputs.result}}"))
		}

		// The two submissions are graded at once, as two students' runs.
		subs := []string{"faulty-iterative", "build-failure"}
		concurrently(len(subs), len(subs), func(i int) {
			sub := subs[i]
			ws := GinkgoT().TempDir()
			Expect(os.CopyFS(ws, os.DirFS(filepath.Join("..", "..", "testdata", "class", sub)))).To(Succeed())
			temp := GinkgoT().TempDir()
			data, err := os.ReadFile(echoconfBin)
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(filepath.Join(temp, "echoconf"), data, 0o755)).To(Succeed())
			out, code := shell(ws, baseEnv("RUNNER_TEMP="+temp), check.Run, 5*time.Minute)
			Expect(code).To(BeZero(), "%s:\n%s", sub, out)

			// The points of each check, as echoconf scored it.
			var res render.GradescopeResults
			data, err = os.ReadFile(filepath.Join(ws, "echoconf-results.json"))
			Expect(err).NotTo(HaveOccurred())
			Expect(json.Unmarshal(data, &res)).To(Succeed())
			// A build that left no server has no results: every test scores 0.
			if sub == "build-failure" {
				Expect(res.Tests).To(BeEmpty(), sub)
				Expect(res.Score).To(BeZero(), sub)
			} else {
				Expect(res.Tests).To(HaveLen(len(graders)), sub)
			}
			earned := map[string]bool{}
			for _, g := range graders {
				earned[g.With["test-name"]] = false
			}
			for _, t := range res.Tests {
				earned[t.Name] = t.Score == t.MaxScore
			}
			awarded := map[string]bool{}
			for _, g := range graders {
				// The command grader gives its command PATH and HOME only.
				_, code := runIn(ws, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, time.Minute, "bash", "-c", g.With["command"])
				awarded[g.With["test-name"]] = code == 0
			}
			Expect(awarded).To(Equal(earned), "%s: each test is awarded exactly when echoconf gave its check's points", sub)
			for _, id := range []string{"concurrency/many-clients", "concurrency/idle-client", "concurrency/non-reading-client"} {
				Expect(awarded[id]).To(BeFalse(), "%s: %s", sub, id)
			}
			for _, id := range []string{"basic/no-greeting", "basic/small-message", "basic/many-messages", "basic/all-byte-values", "basic/line-endings", "halfclose/no-data"} {
				Expect(awarded[id]).To(Equal(sub == "faulty-iterative"), "%s: %s", sub, id)
			}
		})
	})
})

var _ = Describe("the Gradescope example", func() {
	It("grades a submission into /autograder/results/results.json", func() {
		root := GinkgoT().TempDir()
		Expect(os.CopyFS(filepath.Join(root, "submission"), os.DirFS(filepath.Join("..", "..", "testdata", "class", "faulty-iterative")))).To(Succeed())
		Expect(os.Chmod(root, 0o755)).To(Succeed())
		script, err := filepath.Abs(filepath.Join(examplesDir, "gradescope", "run_autograder"))
		Expect(err).NotTo(HaveOccurred())
		out, code := runIn(root, baseEnv("AUTOGRADER_ROOT="+root, "ECHOCONF="+echoconfBin,
			"ECHOCONF_FLAGS=--skip large,robustness --startup-timeout 2s --uid-base "+strconv.Itoa(exampleUIDBase+200)),
			5*time.Minute, script)
		Expect(code).To(BeZero(), out)
		var res render.GradescopeResults
		data, err := os.ReadFile(filepath.Join(root, "results", "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(data, &res)).To(Succeed(), string(data))
		var got, max float64
		failed := map[string]bool{}
		for _, t := range res.Tests {
			got += t.Score
			max += t.MaxScore
			if t.Score < t.MaxScore {
				failed[t.Name] = true
			}
		}
		// basic, partial, halfclose and concurrency: 70 points, of which
		// the iterative server loses the three concurrency checks'.
		Expect(max).To(Equal(70.0))
		Expect(got).To(Equal(50.0), string(data))
		Expect(failed).To(Equal(map[string]bool{"concurrency/many-clients": true, "concurrency/idle-client": true, "concurrency/non-reading-client": true}))
	})
})
