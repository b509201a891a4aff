// Package grade grades a class of C echo-server submissions with the
// conformance engine, safely enough to point at untrusted student code.
//
// Each immediate subdirectory of the class directory is one submission. It
// is copied (regular files and directories only, bounded in size) into a
// private work directory, built (make when it has a Makefile, else gcc on
// its *.c files) and run in exec mode by engine.Run. Every build and
// every server runs in its own session and process group with limits on
// CPU time, address space, processes, open files, file size and
// wall-clock time, and when the grader is root, as an unprivileged user
// (Options.User, "nobody" by default), because root ignores RLIMIT_NPROC.
//
// Where cgroups can be made (Options.Cgroups, as root), each submission
// also gets a cgroup of its own, from the first instruction of its build
// to the end of its checks. It bounds the submission as a whole: its
// processes and threads (pids.max = ProcLimit), its CPU (Options.CPUs,
// one CPU by default) and its memory (MemoryLimit). So a fork bomb or a
// spinner cannot take its neighbours' processes or CPU under -j, whatever
// uid they share, and after each submission every process in its cgroup
// is killed, even one that left its process group and session.
//
// Without cgroups, RLIMIT_NPROC counts every process of a real uid: a
// shared user such as nobody then shares one process budget among
// parallel submissions, and its processes cannot all be killed safely.
// Options.UIDBase gives each parallel slot a dedicated uid instead
// (UIDBase+slot): the process limit is then per submission, and after each
// submission every process of that uid is killed. Without either, the
// grader kills the process group and the server's descendants, and
// verifies that none is left.
//
// Scores come from a report.Rubric; a submission that does not build
// scores 0. Results are written per submission (results.json for
// Gradescope, junit.xml, report.txt, report.html) and for the class
// (summary.csv, checks.csv, and index.html: a chart of every check across
// the class, a histogram of the scores and a sortable table).
//
// A class can be graded on several machines: Options.Shard selects a
// deterministic shard, Merge combines the output directories of the shards
// into what one run of the whole class writes, and Options.Resume
// continues a stopped run. Each run with an output directory writes a
// Manifest (grade.json) there and a grade.json record in each graded
// submission's directory, last, as its completion marker.
package grade
