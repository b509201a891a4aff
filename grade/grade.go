package grade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// Verdicts of a submission, as written to summary.csv.
const (
	VerdictPass        = "pass"         // conformant: no check failed
	VerdictFail        = "fail"         // some check failed
	VerdictBuildFailed = "build-failed" // it did not build; score 0
	VerdictError       = "error"        // the grader could not grade it (its fault, not the student's)
)

// Result is the grade of one submission.
type Result struct {
	Submission   string
	Score        float64
	MaxScore     float64
	Verdict      string
	FailedChecks []string // check IDs that failed or errored; "build" when it did not build
	BuildOK      bool
	BuildCommand string
	BuildOutput  string
	Duration     time.Duration
	// Report is the engine's report; nil when the submission did not build.
	Report *engine.Report
	// Flaky lists checks whose repeated runs (Options.Repeat) disagreed.
	Flaky []string
	// Leftovers counts processes that outlived the submission's process
	// group and could not be killed (always 0 with a cgroup or a dedicated uid).
	Leftovers int
	// Notes are grader remarks ("killed 3 processes left by the build").
	Notes []string
	// Err is why the grader could not grade it (Verdict "error").
	Err error
}

// Submissions lists the submissions of a class directory: its immediate
// subdirectories (not symlinks, not hidden), sorted by name.
func Submissions(classDir string) ([]string, error) {
	entries, err := os.ReadDir(classDir)
	if err != nil {
		return nil, fmt.Errorf("read class directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Type()&os.ModeSymlink == 0 && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Grade grades every submission of classDir (or, with o.Shard, those of
// one shard), o.Jobs at a time, writes the results under o.Out (when set)
// and returns them in submission order. The error is only for a run that
// could not start (bad options, unreadable class directory, a --resume
// that does not match the run in o.Out) or could not write its class
// summary; a submission that cannot be graded is a Result with Verdict
// "error".
//
// With o.Out, each graded submission's reports are written first and its
// grade.json last, each file atomically, and o.Out/grade.json (the
// Manifest) when the run starts and when it ends.
func Grade(ctx context.Context, classDir string, o Options) ([]Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	class, err := Submissions(classDir)
	if err != nil {
		return nil, err
	}
	if len(class) == 0 {
		return nil, fmt.Errorf("no submissions: %s has no subdirectories", classDir)
	}
	names := o.Shard.Of(class)
	if err := validateSelection(o); err != nil {
		return nil, err
	}
	ids, err := o.identities()
	if err != nil {
		return nil, err
	}
	is, err := o.isolation()
	if err != nil {
		return nil, err
	}
	if ids[0].cred != nil {
		fi, err := os.Stat(o.WorkDir)
		if err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return nil, fmt.Errorf("work directory %s is not searchable by others (mode %v), so %s cannot reach its submission", o.WorkDir, fi.Mode().Perm(), ids[0].name)
		}
	}
	cfg := configOf(o)
	cfgHash := cfg.hash()
	manifest := &Manifest{SchemaVersion: ManifestSchemaVersion, Tool: "echoconf", Version: Version(), Config: cfg,
		Shard: o.Shard.String(), Class: class, Submissions: names, Started: time.Now().UTC()}
	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return nil, fmt.Errorf("create output directory: %w", err)
		}
		if o.Resume {
			if err := resumable(o.Out, manifest); err != nil {
				return nil, err
			}
		}
		if err := writeJSONFile(filepath.Join(o.Out, FileManifest), manifest); err != nil {
			return nil, err
		}
	}
	results := make([]Result, len(names))
	var todo []int
	var reused []int
	for i, name := range names {
		if o.Resume {
			if r, ok := completeResult(o.Out, name, cfgHash, catalogueOf(o)); ok {
				results[i] = r
				reused = append(reused, i)
				continue
			}
		}
		todo = append(todo, i)
	}
	jobs := make(chan int)
	var mu sync.Mutex
	done := 0
	emit := func(e Event) {
		if o.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == EventDone {
			done++
		}
		e.Done, e.Total = done, len(names)
		o.Progress(e)
	}
	for _, i := range reused {
		emit(Event{Kind: EventDone, Submission: names[i], Result: &results[i], Resumed: true})
	}
	var wg sync.WaitGroup
	workers := min(o.Jobs, len(todo))
	for slot := 0; slot < workers; slot++ {
		wg.Add(1)
		go func(id identity) {
			defer wg.Done()
			for i := range jobs {
				emit(Event{Kind: EventStart, Submission: names[i]})
				res := gradeOne(ctx, names[i], filepath.Join(classDir, names[i]), o, id, is)
				if o.Out != "" {
					if err := writeGraded(filepath.Join(o.Out, names[i]), &res, o, cfgHash, ctx.Err() == nil); err != nil {
						res.Notes = append(res.Notes, "could not write its reports: "+err.Error())
						if res.Err == nil {
							res.Err = err
							res.Verdict = VerdictError
						}
					}
				}
				results[i] = res
				emit(Event{Kind: EventDone, Submission: names[i], Result: &results[i]})
			}
		}(ids[slot])
	}
feed:
	for _, i := range todo {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	for i := range results {
		if results[i].Submission == "" { // never started: interrupted
			results[i] = Result{Submission: names[i], Verdict: VerdictError, MaxScore: selectedMax(o), Err: fmt.Errorf("not graded: %w", ctx.Err())}
		}
	}
	if o.Out != "" {
		if err := writeClass(o.Out, results); err != nil {
			return results, err
		}
		manifest.Complete = ctx.Err() == nil
		manifest.DurationMS = float64(time.Since(manifest.Started).Microseconds()) / 1000
		if err := writeJSONFile(filepath.Join(o.Out, FileManifest), manifest); err != nil {
			return results, err
		}
	}
	return results, nil
}

// writeGraded writes the reports of res into dir and then, when the
// grading was not interrupted, its record: the old record goes first, so
// that a crash in between never leaves a record beside other reports.
func writeGraded(dir string, res *Result, o Options, cfgHash string, finished bool) error {
	if err := os.Remove(filepath.Join(dir, FileManifest)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the previous record: %w", err)
	}
	if err := writeSubmission(dir, res, o); err != nil {
		return err
	}
	if !finished {
		return nil
	}
	return writeRecord(dir, res, cfgHash)
}

// resumable returns an error when out holds a run that --resume must not
// continue: another version, configuration or shard.
func resumable(out string, m *Manifest) error {
	prev, err := ReadManifest(out)
	if err != nil {
		if _, statErr := os.Stat(filepath.Join(out, FileManifest)); errors.Is(statErr, os.ErrNotExist) {
			return nil // nothing to resume: a fresh run
		}
		return fmt.Errorf("--resume: %w", err)
	}
	if prev.Version != m.Version {
		return fmt.Errorf("--resume: %s was graded by echoconf %s, this is %s; grade again without --resume", out, prev.Version, m.Version)
	}
	if d := m.Config.differences(prev.Config); len(d) > 0 {
		return fmt.Errorf("--resume: %s was graded with another configuration: %s; grade again without --resume", out, strings.Join(d, ", "))
	}
	if prev.Shard != m.Shard {
		return fmt.Errorf("--resume: %s holds shard %s, not %s", out, prev.Shard, m.Shard)
	}
	return nil
}

func catalogueOf(o Options) []spec.Check {
	if o.Checks != nil {
		return o.Checks
	}
	return spec.All()
}

// IsolationOf says how Grade with o would keep submissions apart, or why
// it would not start (Options.Cgroups is CgroupsRequired and cgroups
// cannot be made here).
func IsolationOf(o Options) (Isolation, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Isolation{}, err
	}
	return o.isolation()
}

// gradeOne copies, builds and checks one submission.
func gradeOne(ctx context.Context, name, src string, o Options, id identity, is Isolation) (res Result) {
	start := time.Now()
	res = Result{Submission: name, MaxScore: selectedMax(o)}
	defer func() { res.Duration = time.Since(start) }()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	work, err := os.MkdirTemp(o.WorkDir, "echoconf-grade-")
	if err != nil {
		return graderError(res, fmt.Errorf("create work directory: %w", err))
	}
	defer os.RemoveAll(work)
	if err := os.Chmod(work, 0o711); err != nil {
		return graderError(res, fmt.Errorf("work directory: %w", err))
	}
	dir := filepath.Join(work, "src")
	if err := copySubmission(src, dir); err != nil {
		if errors.Is(err, errTooLarge) {
			res.Verdict, res.FailedChecks = VerdictBuildFailed, []string{"build"}
			res.BuildOutput = err.Error() + "\n"
			return res
		}
		return graderError(res, fmt.Errorf("copy submission: %w", err))
	}
	if id.cred != nil {
		if err := chownTree(dir, int(id.cred.Uid), int(id.cred.Gid)); err != nil {
			return graderError(res, fmt.Errorf("give the work directory to %s: %w", id.name, err))
		}
	}

	box, err := newContainer(name, o, is)
	if err != nil {
		return graderError(res, fmt.Errorf("make the submission's cgroup: %w", err))
	}
	defer func() {
		res.Notes = append(res.Notes, box.notes()...)
		if err := box.close(); err != nil {
			res.Notes = append(res.Notes, err.Error())
			res.Leftovers++
		}
	}()

	b := build(ctx, dir, o, id, is, box.start())
	if n := box.kill(); n > 0 {
		b.leftover += n
	}
	res.BuildCommand, res.BuildOutput = b.command, b.output
	if b.leftover > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d processes started by the build outlived it", b.leftover))
		res.Leftovers += b.leftover
	}
	if !b.ok {
		res.Verdict, res.FailedChecks = VerdictBuildFailed, []string{"build"}
		return res
	}
	res.BuildOK = true

	target := engine.Target{Exec: &engine.ExecSpec{
		Command:        o.Run,
		Dir:            dir,
		Env:            []string{"HOME=" + dir, "TMPDIR=" + dir},
		StartupTimeout: o.StartupTimeout,
		FDLimit:        o.FDLimit,
		ProcLimit:      procLimitFor(o, id, is),
		CPULimit:       o.CPULimit,
		MemoryLimit:    o.MemoryLimit,
		Credential:     id.cred,
		OutputLimit:    DefaultOutputLimit,
		Start:          box.start(),
	}}
	rep, err := engine.Run(ctx, target, engine.Options{
		Run: o.Select, Skip: o.Skip, Strict: o.Strict, TimeoutScale: o.TimeoutScale,
		Repeat: o.Repeat, Checks: o.Checks,
		// A check that fails while others run is re-run alone and only
		// that run counts: a server that serves one client at a time then
		// fails only the concurrency checks, every time, instead of
		// whichever checks happened to overlap.
		ConfirmAlone: true,
	})
	var groups []int
	if rep != nil && rep.Server != nil {
		groups = append(groups, rep.Server.PID)
	}
	// The cgroup first: it holds every process, and sweep then finds none.
	left := box.kill()
	left += len(sweep(groups, id))
	if left > 0 {
		res.Leftovers += left
		hint := ""
		if !is.Cgroups {
			hint = " (cgroups, or --uid-base for dedicated uids, catch every process)"
		}
		res.Notes = append(res.Notes, fmt.Sprintf("%d processes escaped the server's process group and are still running%s", left, hint))
	}
	if err != nil {
		return graderError(res, fmt.Errorf("run the checks: %w", err))
	}
	if ctx.Err() != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("the submission reached its wall-clock limit of %v", o.Timeout))
	}
	res.Report = rep
	res.Score, res.MaxScore = o.Rubric.Score(rep)
	res.Verdict = VerdictPass
	if rep.Verdict() == engine.VerdictFail {
		res.Verdict = VerdictFail
	}
	for _, r := range rep.Results {
		if r.Status == engine.StatusFail || r.Status == engine.StatusError {
			res.FailedChecks = append(res.FailedChecks, r.Check.ID)
		}
		if r.Flaky() {
			res.Flaky = append(res.Flaky, fmt.Sprintf("%s (failed %d of %d runs)", r.Check.ID, r.Failures, r.Runs))
		}
	}
	return res
}

func graderError(res Result, err error) Result {
	res.Verdict, res.Err = VerdictError, err
	res.Notes = append(res.Notes, err.Error())
	return res
}

// validateSelection rejects malformed globs and globs that match no check,
// before any submission is built.
func validateSelection(o Options) error {
	checks := o.Checks
	if checks == nil {
		checks = spec.All()
	}
	for _, p := range append(append([]string{}, o.Select...), o.Skip...) {
		n := 0
		for _, c := range checks {
			ok, err := matchCheck(p, c)
			if err != nil {
				return fmt.Errorf("invalid check pattern %q: %w", p, err)
			}
			if ok {
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("check pattern %q matches no check (see echoconf list)", p)
		}
	}
	return nil
}

// matchCheck applies a selection glob as the engine does: a pattern
// without a slash names a category.
func matchCheck(pattern string, c spec.Check) (bool, error) {
	if !strings.Contains(pattern, "/") {
		pattern += "/*"
	}
	return path.Match(pattern, c.ID)
}

// selected reports whether o's selection includes check c.
func selected(o Options, c spec.Check) bool {
	in := len(o.Select) == 0
	for _, p := range o.Select {
		if ok, _ := matchCheck(p, c); ok {
			in = true
		}
	}
	for _, p := range o.Skip {
		if ok, _ := matchCheck(p, c); ok {
			in = false
		}
	}
	return in
}

// selectedMax is the points at stake for the selected checks, so that a
// submission that does not build has the same max_score as the others.
func selectedMax(o Options) float64 {
	var total float64
	for _, c := range catalogueOf(o) {
		if selected(o, c) {
			total += o.Rubric.Points(c.ID)
		}
	}
	return float64(int64(total*1000+0.5)) / 1000
}
