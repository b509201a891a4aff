package grade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// buildOutcome is the result of building one submission.
type buildOutcome struct {
	ok       bool
	command  string
	output   string // compiler or make output, bounded
	problem  string // why it failed, one line
	leftover int    // processes the build left that had to be killed
}

// makefileNames are the files that make reads by default.
var makefileNames = []string{"GNUmakefile", "makefile", "Makefile"}

// buildArgv returns the build command for the submission in dir: make when
// it has a Makefile, else gcc on its top-level *.c files.
func buildArgv(dir, binary string) ([]string, error) {
	for _, m := range makefileNames {
		if fi, err := os.Lstat(filepath.Join(dir, m)); err == nil && fi.Mode().IsRegular() {
			return []string{"make"}, nil
		}
	}
	sources, err := filepath.Glob(filepath.Join(dir, "*.c"))
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	if len(sources) == 0 {
		return nil, errors.New("no Makefile and no .c files at the top of the submission")
	}
	sort.Strings(sources)
	argv := []string{"gcc", "-O2", "-Wall", "-pthread", "-o", binary}
	for _, s := range sources {
		argv = append(argv, filepath.Base(s))
	}
	return argv, nil
}

// build builds the submission in dir as id, bounded by o's build timeout
// and limits, and kills whatever the build left running in its process
// group. start, when not nil, starts the build command (in the
// submission's cgroup).
func build(ctx context.Context, dir string, o Options, id identity, is Isolation, start func(*exec.Cmd) error) buildOutcome {
	argv, err := buildArgv(dir, o.Binary)
	if err != nil {
		return buildOutcome{problem: err.Error(), output: err.Error() + "\n"}
	}
	out := buildOutcome{command: strings.Join(argv, " ")}
	ctx, cancel := context.WithTimeout(ctx, o.BuildTimeout)
	defer cancel()
	full := limitedCommand(argv, o, procLimitFor(o, id, is))
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + dir, "LANG=C", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: id.cred, Pdeathsig: syscall.SIGKILL} // own session: see conformance's startProc
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	buf := &boundedBuffer{limit: DefaultOutputLimit}
	cmd.Stdout, cmd.Stderr = buf, buf
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err = start(cmd); err == nil {
		err = cmd.Wait()
	}
	if cmd.Process != nil {
		out.leftover = len(sweep([]int{cmd.Process.Pid}, id))
		if left := leftovers([]int{cmd.Process.Pid}, id); len(left) > 0 {
			out.leftover = len(left)
		}
	}
	out.output = buf.String()
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		out.problem = fmt.Sprintf("the build did not finish within %v", o.BuildTimeout)
	case err != nil:
		out.problem = fmt.Sprintf("%s failed: %v", argv[0], err)
	default:
		if first := strings.Fields(o.Run); len(first) > 0 && first[0] == "./"+o.Binary {
			fi, err := os.Lstat(filepath.Join(dir, o.Binary))
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
				out.problem = fmt.Sprintf("the build succeeded but produced no executable ./%s", o.Binary)
				break
			}
		}
		out.ok = true
	}
	if out.problem != "" {
		out.output += out.problem + "\n"
	}
	return out
}

// procLimitFor is RLIMIT_NPROC for id's processes. Not as root, the limit
// counts every process of the grader's own user, so the user's current
// count is added to keep the grader able to work.
//
// With cgroups, pids.max is each submission's process limit, and a uid
// that several slots share must not run out first: its RLIMIT_NPROC
// leaves room for every slot's limit and for the uid's other processes.
func procLimitFor(o Options, id identity, is Isolation) int {
	switch {
	case is.Cgroups && !id.dedicated:
		return countUserTasks(id.uid) + o.ProcLimit*o.Jobs
	case id.cred == nil:
		return countUserTasks(id.uid) + o.ProcLimit
	}
	return o.ProcLimit
}
