package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/grade"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

const gradeUsage = `Usage: echoconf grade [flags] SUBMISSIONS_DIR
       echoconf grade merge --out DIR RUN_DIR...

Grades a class: each immediate subdirectory of SUBMISSIONS_DIR is one
submission of C sources. Each is copied to a private work directory, built
(make when it has a Makefile, else gcc -O2 -Wall -pthread *.c -o BINARY) and
checked in exec mode, in its own session and process group, with limits on
CPU time, memory, processes, open files and wall-clock time. Where cgroups
can be made (as root), each submission also gets a cgroup of its own that
bounds its processes (--procs), CPU (--cpus) and memory (--memory) as a
whole and holds everything it starts, so that a fork bomb or a spinner does
not slow its neighbours down and nothing it started outlives it. As root,
builds and servers run as --user (default nobody), because root ignores the
process limit; --uid-base gives each parallel slot a dedicated uid instead.

With --client, the submissions are echo clients, built into the program
"client" (--binary), and judged by the client catalogue (echoconf list
--client): for each check, echoconf plays a server and runs the client
with --exec (default "./client {host} {message} {port}" for the argument
--shape, "./client {host} {port}" for interactive and stream clients,
which read stdin; --tty types it on a terminal). The client runs as --user
like a server, under the same resource limits and in the submission's
cgroup, with each check's time limit. A submission whose
client cannot be run scores 0, as one that does not build.

Scores come from the rubric (--rubric FILE, default: the built-in rubric of
100 points; --print-rubric shows it). A check earns its points when it
passes or warns; a SHOULD violation warns unless --strict. A submission that
does not build scores 0.

With --out DIR, writes DIR/NAME/{results.json,junit.xml,report.txt,report.html}
for each submission, and DIR/summary.csv, DIR/checks.csv and DIR/index.html
(a chart of every check across the class, and a histogram of the scores)
for the class.
It also writes grade.json files that record what was graded and how.

Across machines: --shard K/N grades the K-th of N disjoint shards (K from 0,
by sorted name, whatever order the directory lists them in); "echoconf grade
merge" then combines the --out directories of the shards into one, as a
single run of the whole class would have written it. --resume continues a
stopped run in the same --out directory, grading only the submissions whose
results are not complete.

Flags:
`

const gradeFooter = `
Exit codes: 0 every submission was graded (whatever its score), 1 some
submission could not be graded (the grader's fault; see its notes), 2 usage
or internal error.
`

// gradeFlags are the parsed flags of echoconf grade.
type gradeFlags struct {
	binary, exec, run, user, out string
	rubric                       string
	uidBase, jobs, repeat        int
	procs, fds                   int
	memMiB                       int64
	strict, printRubric          bool
	scale, cpus                  float64
	cgroups                      string
	timeout, buildTimeout, cpu   time.Duration
	startup                      time.Duration
	selectChecks, skip           globList
	shard                        string
	resume, udp                  bool
	client, tty                  bool
	shape                        string
}

func newGradeFlagSet(f *gradeFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("grade", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.binary, "binary", "", "`NAME` of the program the build produces (default \"server\", with --client \"client\")")
	fs.StringVar(&f.exec, "exec", "", "how to start the program, `CMD {port}` (default \"./BINARY {port}\"), as in echoconf check; with --client, the client's command line")
	fs.StringVar(&f.run, "run", "", "deprecated spelling of --exec `CMD`")
	fs.StringVar(&f.user, "user", grade.DefaultUser, "run builds and servers as `USER` (name or uid) when root")
	fs.IntVar(&f.uidBase, "uid-base", 0, "as root, run parallel slot k as the dedicated uid `N`+k (uids that nothing else uses)")
	fs.IntVar(&f.jobs, "j", 1, "grade `N` submissions in parallel")
	fs.StringVar(&f.out, "out", "", "write the reports to `DIR`")
	fs.StringVar(&f.rubric, "rubric", "", "score with the YAML rubric `FILE` (default: the built-in rubric)")
	fs.BoolVar(&f.printRubric, "print-rubric", false, "print the built-in rubric (with --udp, the UDP one; with --client, the one of the client --shape) and exit")
	fs.BoolVar(&f.udp, "udp", false, "grade UDP echo servers with the udp catalogue and the UDP rubric")
	fs.BoolVar(&f.client, "client", false, "grade echo clients with the client catalogue and the client rubric")
	fs.StringVar(&f.shape, "shape", "", "with --client, how the clients take their input: `SHAPE` argument, interactive or stream (default: argument when --exec has {message})")
	fs.BoolVar(&f.tty, "tty", false, "with --client, make the clients' stdin a terminal")
	fs.BoolVar(&f.strict, "strict", false, "make SHOULD failures fail (and cost their points)")
	fs.IntVar(&f.repeat, "repeat", 1, "run each check `N` times and report checks whose runs disagree")
	fs.Float64Var(&f.scale, "timeout-scale", 1, "multiply every check timeout by `F`")
	fs.Var(&f.selectChecks, "select", "grade only checks whose ID matches `GLOB`; repeatable or comma-separated")
	fs.Var(&f.skip, "skip", "leave out checks whose ID matches `GLOB`; repeatable or comma-separated")
	fs.DurationVar(&f.timeout, "timeout", grade.DefaultTimeout, "wall-clock limit per submission, build included")
	fs.DurationVar(&f.buildTimeout, "build-timeout", grade.DefaultBuildTimeout, "wall-clock limit of a build")
	fs.DurationVar(&f.cpu, "cpu", grade.DefaultCPULimit, "CPU time limit of each process (RLIMIT_CPU)")
	fs.Int64Var(&f.memMiB, "memory", grade.DefaultMemoryLimit>>20, "address-space limit of each process in `MiB` (RLIMIT_AS)")
	fs.IntVar(&f.procs, "procs", grade.DefaultProcLimit, "process and thread limit (RLIMIT_NPROC)")
	fs.IntVar(&f.fds, "fds", grade.DefaultFDLimit, "open file limit of each process (RLIMIT_NOFILE)")
	fs.StringVar(&f.cgroups, "cgroups", grade.CgroupsAuto, "a cgroup per submission: `MODE` auto (where they can be made), required, or off")
	fs.Float64Var(&f.cpus, "cpus", 0, "with cgroups, cap each submission at `F` CPUs (0: no cap, an equal share of a busy CPU)")
	fs.DurationVar(&f.startup, "startup-timeout", 5*time.Second, "how long a server has to start accepting")
	fs.StringVar(&f.shard, "shard", "", "grade only shard `K/N` of the class: the K-th (from 0) of N disjoint shards")
	fs.BoolVar(&f.resume, "resume", false, "with --out, keep the complete results of a stopped run there and grade the rest")
	return fs
}

// runGrade is echoconf grade: parse and validate everything, say how the
// submissions are kept apart, grade them, then print the summary.
func runGrade(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "merge" {
		return runGradeMerge(args[1:], stdout, stderr)
	}
	var f gradeFlags
	fs := newGradeFlagSet(&f)
	pos, code, done := parseCommand("grade", fs, args, gradeUsage, gradeFooter, stdout, stderr)
	if done {
		return code
	}
	client, err := clientOptions(&f)
	if err != nil {
		return usageError(stderr, "grade: %v", err)
	}
	if f.printRubric {
		rubric := report.DefaultRubricYAML()
		switch {
		case client != nil:
			rubric = report.DefaultClientRubricYAML(client.Shape)
		case f.udp:
			rubric = report.DefaultUDPRubricYAML()
		}
		if _, err := stdout.Write(rubric); err != nil {
			return usageError(stderr, "grade: %v", err)
		}
		return exitPass
	}
	o, err := gradeOptions(&f, pos, stderr)
	if err != nil {
		return usageError(stderr, "grade: %v", err)
	}
	o.Client = client
	is, err := grade.IsolationOf(o)
	if err != nil {
		return usageError(stderr, "grade: %v", err)
	}
	noteIsolation(stderr, is, &f)
	ctx, stdout, stderr, stop := runContext(stdout, stderr)
	defer stop()
	o.Progress = grade.ProgressPrinter(stderr, isTerminal(stderr))
	results, err := grade.Grade(ctx, pos[0], o)
	if err != nil && results == nil {
		return usageError(stderr, "grade: %v", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "echoconf: grade: %v\n", err)
		return exitUsage
	}
	if err := grade.WriteSummaryCSV(stdout, results); err != nil {
		return usageError(stderr, "grade: %v", err)
	}
	code = noteUngraded(stderr, results)
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "echoconf: grade: %s\n", interruption(ctx))
		return exitUsage
	}
	return code
}

// gradeOptions validates the flags and the class directory of echoconf
// grade and returns the grader's options; it notes on stderr the use of
// the deprecated --run.
func gradeOptions(f *gradeFlags, pos []string, stderr io.Writer) (grade.Options, error) {
	if err := gradeFlagValues(f, pos); err != nil {
		return grade.Options{}, err
	}
	var shard grade.Shard
	if f.shard != "" {
		var err error
		if shard, err = grade.ParseShard(f.shard); err != nil {
			return grade.Options{}, fmt.Errorf("--shard: %w", err)
		}
	}
	if f.resume && f.out == "" {
		return grade.Options{}, errors.New("--resume needs --out DIR, the directory of the run to resume")
	}
	if fi, err := os.Stat(pos[0]); err != nil || !fi.IsDir() {
		return grade.Options{}, fmt.Errorf("%s is not a directory", pos[0])
	}
	if f.run != "" {
		if f.exec != "" && f.exec != f.run {
			return grade.Options{}, errors.New("--run is the old spelling of --exec; give one of them")
		}
		fmt.Fprintln(stderr, "echoconf: grade: note: --run is deprecated for the server's command line; use --exec, as in echoconf check (where --run, like --select, selects checks)")
		f.exec = f.run
	}
	o := grade.Options{
		Binary: f.binary, Run: f.exec, User: f.user, UIDBase: f.uidBase, Jobs: f.jobs, Out: f.out,
		Select: f.selectChecks, Skip: f.skip, Strict: f.strict, TimeoutScale: f.scale, Repeat: f.repeat,
		BuildTimeout: f.buildTimeout, Timeout: f.timeout, CPULimit: f.cpu, MemoryLimit: f.memMiB << 20,
		ProcLimit: f.procs, FDLimit: f.fds, StartupTimeout: f.startup, Cgroups: f.cgroups, CPUs: f.cpus,
		Shard: shard, Resume: f.resume,
	}
	catalogue := spec.All()
	switch {
	case f.client:
		o.Checks, catalogue = spec.Clients(), spec.Clients()
	case f.udp:
		o.Network, o.Checks, catalogue = "udp", spec.UDP(), spec.UDP()
	}
	if f.rubric != "" {
		rb, err := report.LoadRubric(f.rubric, catalogue)
		if err != nil {
			return grade.Options{}, err
		}
		o.Rubric = rb
	}
	return o, nil
}

// clientOptions returns the grader's client options for --client, --shape
// and --tty (nil without --client). The shape defaults to argument when
// --exec has a {message} or is not given.
func clientOptions(f *gradeFlags) (*grade.ClientOptions, error) {
	switch {
	case !f.client && (f.shape != "" || f.tty):
		return nil, errors.New("--shape and --tty describe clients: add --client")
	case !f.client:
		return nil, nil
	case f.udp:
		return nil, errors.New("--client and --udp: echo clients are graded over TCP only")
	}
	c := &grade.ClientOptions{Shape: spec.ShapeArgument, TTY: f.tty}
	switch {
	case f.shape != "":
		shape, err := spec.ParseShape(f.shape)
		if err != nil {
			return nil, fmt.Errorf("--shape: %w", err)
		}
		c.Shape = shape
	case f.exec+f.run != "" && !strings.Contains(f.exec+f.run, "{message}"):
		return nil, fmt.Errorf("--exec %q has no {message}: give --shape interactive or --shape stream for a client that reads stdin", f.exec+f.run)
	}
	return c, nil
}

// gradeFlagValues rejects arguments and flag values out of range.
func gradeFlagValues(f *gradeFlags, pos []string) error {
	switch {
	case len(pos) != 1:
		return fmt.Errorf("want one SUBMISSIONS_DIR, got %d arguments", len(pos))
	case f.repeat < 1 || f.repeat > engine.MaxRepeat:
		return fmt.Errorf("--repeat must be in 1..%d, got %d", engine.MaxRepeat, f.repeat)
	case f.jobs < 1 || f.jobs > 64:
		return fmt.Errorf("-j must be in 1..64, got %d", f.jobs)
	case !(f.scale > 0 && f.scale <= 1000): // NaN fails every comparison
		return fmt.Errorf("--timeout-scale must be in (0, 1000], got %g", f.scale)
	case f.timeout <= 0 || f.buildTimeout <= 0 || f.cpu <= 0 || f.startup <= 0:
		return errors.New("--timeout, --build-timeout, --cpu and --startup-timeout must be positive")
	case f.cgroups != grade.CgroupsAuto && f.cgroups != grade.CgroupsRequired && f.cgroups != grade.CgroupsOff:
		return fmt.Errorf("--cgroups must be auto, required or off, got %q", f.cgroups)
	case f.cpus != 0 && !(f.cpus >= 0.01 && f.cpus <= 1024): // NaN too
		return fmt.Errorf("--cpus must be 0 (no cap) or in 0.01..1024, got %g", f.cpus)
	case f.memMiB < 16 || f.procs < 1 || f.fds < 8:
		return errors.New("--memory must be at least 16 MiB, --procs at least 1, --fds at least 8")
	}
	return nil
}

// noteIsolation says on stderr what parallel jobs share when the
// submissions get no cgroups.
func noteIsolation(stderr io.Writer, is grade.Isolation, f *gradeFlags) {
	switch {
	case !is.Cgroups && f.jobs > 1:
		fmt.Fprintf(stderr, "echoconf: grade: note: %s: the %d parallel jobs share the CPU unevenly", is, f.jobs)
		if os.Geteuid() == 0 && f.uidBase == 0 {
			fmt.Fprintf(stderr, ", and user %s's process limit; use --uid-base for a dedicated uid per job", f.user)
		}
		fmt.Fprintln(stderr)
	case !is.Cgroups:
		fmt.Fprintf(stderr, "echoconf: grade: note: %s\n", is)
	}
}

// noteUngraded names on stderr the flaky checks and the submissions that
// could not be graded, and returns the exit code: exitFail when some
// could not.
func noteUngraded(stderr io.Writer, results []grade.Result) int {
	code := exitPass
	for _, r := range results {
		for _, fl := range r.Flaky {
			fmt.Fprintf(stderr, "echoconf: grade: %s: runs disagree on %s\n", r.Submission, fl)
		}
		if r.Verdict == grade.VerdictError {
			fmt.Fprintf(stderr, "echoconf: grade: %s could not be graded: %v\n", r.Submission, r.Err)
			code = exitFail
		}
	}
	return code
}
