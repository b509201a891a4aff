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
	"github.com/echoconf/echoconf/internal/process"
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
	ids, is, err := readyToGrade(o)
	if err != nil {
		return nil, err
	}
	cfg := configOf(o)
	cfgHash := cfg.hash()
	manifest := &Manifest{SchemaVersion: ManifestSchemaVersion, Tool: "echoconf", Version: Version(), Config: cfg,
		Shard: o.Shard.String(), Class: class, Submissions: names, Started: time.Now().UTC()}
	if err := startOutput(o, manifest); err != nil {
		return nil, err
	}
	results, todo, reused := reusable(o, names, cfgHash)
	emit := progressEmitter(o, len(names))
	for _, i := range reused {
		emit(Event{Kind: EventDone, Submission: names[i], Result: &results[i], Resumed: true})
	}
	g := grader{classDir: classDir, o: o, is: is, cfgHash: cfgHash, emit: emit}
	g.gradeEach(ctx, names, todo, ids, results)
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

// readyToGrade checks the selection and returns the identities of the
// parallel slots and the isolation of the submissions; a work directory
// that the unprivileged user cannot search is an error.
func readyToGrade(o Options) ([]identity, Isolation, error) {
	if err := validateSelection(o); err != nil {
		return nil, Isolation{}, err
	}
	ids, err := o.identities()
	if err != nil {
		return nil, Isolation{}, err
	}
	is, err := o.isolation()
	if err != nil {
		return nil, Isolation{}, err
	}
	if ids[0].cred != nil {
		fi, err := os.Stat(o.WorkDir)
		if err != nil {
			return nil, Isolation{}, fmt.Errorf("work directory: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return nil, Isolation{}, fmt.Errorf("work directory %s is not searchable by others (mode %v), so %s cannot reach its submission", o.WorkDir, fi.Mode().Perm(), ids[0].name)
		}
	}
	return ids, is, nil
}

// startOutput creates o.Out and writes the run's manifest there, after
// checking that a --resume continues a run of the same kind.
func startOutput(o Options, manifest *Manifest) error {
	if o.Out == "" {
		return nil
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	if o.Resume {
		if err := resumable(o.Out, manifest); err != nil {
			return err
		}
	}
	return writeJSONFile(filepath.Join(o.Out, FileManifest), manifest)
}

// reusable returns a result slot per submission, filled in for those whose
// complete results --resume keeps (reused), and the indexes of the
// submissions left to grade (todo).
func reusable(o Options, names []string, cfgHash string) (results []Result, todo, reused []int) {
	results = make([]Result, len(names))
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
	return results, todo, reused
}

// progressEmitter returns a function that passes events to o.Progress one
// at a time, with the count of submissions done out of total.
func progressEmitter(o Options, total int) func(Event) {
	var mu sync.Mutex
	done := 0
	return func(e Event) {
		if o.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == EventDone {
			done++
		}
		e.Done, e.Total = done, total
		o.Progress(e)
	}
}

// grader grades submissions of one class with one configuration.
type grader struct {
	classDir string
	o        Options
	is       Isolation
	cfgHash  string
	emit     func(Event)
}

// gradeEach grades the submissions names[i] for i in todo, one worker per
// identity (at most one per submission), and stores each result in
// results[i]. It stops feeding submissions when the context ends.
func (g grader) gradeEach(ctx context.Context, names []string, todo []int, ids []identity, results []Result) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	workers := min(g.o.Jobs, len(todo))
	for slot := 0; slot < workers; slot++ {
		wg.Add(1)
		go func(id identity) {
			defer wg.Done()
			for i := range jobs {
				g.emit(Event{Kind: EventStart, Submission: names[i]})
				results[i] = g.gradeAndWrite(ctx, names[i], id)
				g.emit(Event{Kind: EventDone, Submission: names[i], Result: &results[i]})
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
}

// gradeAndWrite grades submission name as id and, with an output
// directory, writes its reports; a write that fails makes an ungraded
// submission of a graded one.
func (g grader) gradeAndWrite(ctx context.Context, name string, id identity) Result {
	res := gradeOne(ctx, name, filepath.Join(g.classDir, name), g.o, id, g.is)
	if g.o.Out == "" {
		return res
	}
	if err := writeGraded(filepath.Join(g.o.Out, name), &res, g.o, g.cfgHash, ctx.Err() == nil); err != nil {
		res.Notes = append(res.Notes, "could not write its reports: "+err.Error())
		if res.Err == nil {
			res.Err = err
			res.Verdict = VerdictError
		}
	}
	return res
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
	dir := filepath.Join(work, "src")
	if err := copyToWork(src, work, dir, id); err != nil {
		if errors.Is(err, errTooLarge) {
			res.Verdict, res.FailedChecks = VerdictBuildFailed, []string{"build"}
			res.BuildOutput = err.Error() + "\n"
			return res
		}
		return graderError(res, err)
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

	if !buildInBox(ctx, dir, o, id, is, box, &res) {
		res.Verdict, res.FailedChecks = VerdictBuildFailed, []string{"build"}
		return res
	}
	res.BuildOK = true
	rep, err := runChecks(ctx, dir, o, id, is, box)
	killLeftovers(rep, box, id, is, &res)
	if errors.Is(err, process.ErrProgram) {
		// It built, but what it built cannot run: the submission's fault,
		// scored as a build that left no server (or client).
		res.Verdict, res.FailedChecks = VerdictBuildFailed, []string{"build"}
		res.BuildOutput += err.Error() + "\n"
		return res
	}
	if err != nil {
		return graderError(res, fmt.Errorf("run the checks: %w", err))
	}
	if ctx.Err() != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("the submission reached its wall-clock limit of %v", o.Timeout))
	}
	scoreReport(&res, rep, o)
	return res
}

// copyToWork copies the submission src to dir inside the work directory
// work, which others may search, and gives dir to id's user.
func copyToWork(src, work, dir string, id identity) error {
	if err := os.Chmod(work, 0o711); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	if err := copySubmission(src, dir); err != nil {
		if errors.Is(err, errTooLarge) {
			return err
		}
		return fmt.Errorf("copy submission: %w", err)
	}
	if id.cred != nil {
		if err := chownTree(dir, int(id.cred.Uid), int(id.cred.Gid)); err != nil {
			return fmt.Errorf("give the work directory to %s: %w", id.name, err)
		}
	}
	return nil
}

// buildInBox builds the submission in dir inside box, records the build's
// command, output and leftover processes in res, and reports whether it
// built.
func buildInBox(ctx context.Context, dir string, o Options, id identity, is Isolation, box *container, res *Result) bool {
	b := build(ctx, dir, o, id, is, box.start())
	if n := box.kill(); n > 0 {
		b.leftover += n
	}
	res.BuildCommand, res.BuildOutput = b.command, b.output
	if b.leftover > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d processes started by the build outlived it", b.leftover))
		res.Leftovers += b.leftover
	}
	return b.ok
}

// runChecks runs the catalogue against the built server in dir, started
// in box with the submission's limits as id.
func runChecks(ctx context.Context, dir string, o Options, id identity, is Isolation, box *container) (*engine.Report, error) {
	if o.Client != nil {
		return runClientChecks(ctx, dir, o, id, is, box)
	}
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
	}, Network: o.Network}
	return engine.Run(ctx, target, o.engineOptions())
}

// engineOptions are the engine's options for a submission, server or
// client.
func (o Options) engineOptions() engine.Options {
	return engine.Options{
		Run: o.Select, Skip: o.Skip, Strict: o.Strict, TimeoutScale: o.TimeoutScale,
		Repeat: o.Repeat, Checks: o.Checks,
		// A check that fails while others run is re-run alone and only
		// that run counts: a server that serves one client at a time then
		// fails only the concurrency checks, every time, instead of
		// whichever checks happened to overlap.
		ConfirmAlone: true,
	}
}

// killLeftovers kills what the server left running, the cgroup first (it
// holds every process, and sweep then finds none), and notes in res how
// many processes escaped.
func killLeftovers(rep *engine.Report, box *container, id identity, is Isolation, res *Result) {
	var groups []int
	if rep != nil && rep.Server != nil {
		groups = append(groups, rep.Server.PID)
	}
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
}

// scoreReport records rep in res with its score, verdict, failed and
// flaky checks.
func scoreReport(res *Result, rep *engine.Report, o Options) {
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
