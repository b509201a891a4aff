package grade

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/process"
	"github.com/echoconf/echoconf/spec"
)

// Defaults of Options.
const (
	DefaultBinary       = "server"
	DefaultUser         = "nobody"
	DefaultBuildTimeout = 2 * time.Minute
	DefaultTimeout      = 10 * time.Minute // wall-clock per submission, build included
	DefaultCPULimit     = 2 * time.Minute  // RLIMIT_CPU of each process
	DefaultMemoryLimit  = 1 << 30          // RLIMIT_AS of each process
	DefaultProcLimit    = 512              // RLIMIT_NPROC: a thread per client for 100+ clients fits
	DefaultFDLimit      = 1024             // RLIMIT_NOFILE: 100+ clients at once fit
	DefaultFileLimit    = 64 << 20         // RLIMIT_FSIZE of builds
	DefaultOutputLimit  = 64 << 10         // bytes of compiler or server output kept
	maxSubmissionBytes  = 64 << 20         // a submission larger than this is rejected
	maxSubmissionFiles  = 10000
)

// Options configure a grading run. The zero value grades with the defaults.
type Options struct {
	// Binary is the program the build produces (default "server", or
	// "client" with Client).
	Binary string
	// Run is how the program is started, {port} being replaced by a free
	// port (default "./BINARY {port}"; for a client, see ClientOptions).
	Run string
	// User runs builds and servers when the grader is root (default
	// "nobody"); ignored otherwise.
	User string
	// UIDBase, when > 0 and the grader is root, runs parallel slot k as the
	// dedicated uid UIDBase+k (with User's group). Those uids must belong to
	// nothing else: every process of them is killed after each submission.
	UIDBase int
	// Jobs is how many submissions are graded at once (default 1).
	Jobs int
	// Out is the directory for the results; "" writes nothing.
	Out string
	// Rubric scores the checks (default report.DefaultRubric()).
	Rubric *report.Rubric
	// Select and Skip choose checks by glob, as engine.Options.Run/Skip.
	Select, Skip []string
	// Strict, TimeoutScale and Repeat are passed to the engine.
	Strict       bool
	TimeoutScale float64
	Repeat       int
	// Checks is the catalogue (default spec.All(), spec.UDP() with
	// Network "udp", or spec.Clients() with Client).
	Checks []spec.Check
	// Network is "udp" for a class of UDP servers; "" or "tcp" for TCP.
	Network string
	// Client, when set, grades echo clients instead of servers (see
	// ClientOptions).
	Client *ClientOptions
	// Limits.
	BuildTimeout   time.Duration
	Timeout        time.Duration // wall clock per submission
	CPULimit       time.Duration
	MemoryLimit    int64
	ProcLimit      int
	FDLimit        int
	StartupTimeout time.Duration // default process.DefaultStartupTimeout
	// Cgroups is CgroupsAuto (the default), CgroupsRequired or CgroupsOff.
	// With a cgroup per submission, ProcLimit, CPUs and MemoryLimit also
	// bound the submission as a whole, so that a fork bomb or a spinner
	// cannot take its neighbours' processes, CPU or memory, and every
	// process it started is killed at its end, whatever process group,
	// session or uid it ran in.
	Cgroups string
	// CPUs, when > 0, caps the CPU time a submission's processes may use
	// together, in CPUs, with cgroups. 0 sets no cap: a submission's cgroup
	// then gets the same share of a busy CPU as any other, however many
	// processes it runs.
	CPUs float64
	// WorkDir is where private copies are built (default os.TempDir()).
	WorkDir string
	// Progress, when set, is called as submissions start and finish; calls
	// are serialised.
	Progress func(Event)
	// Shard, when set, grades only that shard of the class (see Shard).
	Shard Shard
	// Resume, with Out, reuses the results under Out of the submissions
	// that a previous run with the same version and configuration graded
	// completely, and grades only the others.
	Resume bool
}

// EventKind says what a progress Event reports.
type EventKind int

// The kinds of progress event.
const (
	EventStart EventKind = iota // a submission started
	EventDone                   // a submission is graded; Result is set
)

// Event reports progress of a grading run.
type Event struct {
	Kind       EventKind
	Submission string
	Done       int // submissions finished so far
	Total      int
	Result     *Result
	// Resumed is set on an EventDone whose Result comes from a previous
	// run (Options.Resume).
	Resumed bool
}

func (o Options) withDefaults() (Options, error) {
	if o.Binary == "" {
		o.Binary = DefaultBinary
		if o.Client != nil {
			o.Binary = DefaultClientBinary
		}
	}
	if strings.ContainsAny(o.Binary, "/ \t\n") || o.Binary == "." || o.Binary == ".." {
		return o, fmt.Errorf("invalid --binary %q: want a plain file name", o.Binary)
	}
	if o.Run == "" {
		o.Run = "./" + o.Binary + " {port}"
		if o.Client != nil {
			o.Run = o.Client.defaultRun(o.Binary)
		}
	}
	if !strings.Contains(o.Run, "{port}") {
		return o, fmt.Errorf("invalid --run %q: it must contain {port}", o.Run)
	}
	if o.User == "" {
		o.User = DefaultUser
	}
	if o.Jobs == 0 {
		o.Jobs = 1
	}
	if o.Jobs < 0 || o.Jobs > 64 {
		return o, fmt.Errorf("invalid -j %d: want 1..64", o.Jobs)
	}
	if o.UIDBase < 0 || o.UIDBase > 1<<31-1-64 {
		return o, fmt.Errorf("invalid --uid-base %d", o.UIDBase)
	}
	network, err := process.Network(o.Network)
	if err != nil {
		return o, err
	}
	o.Network = network
	if o.Client != nil {
		if err := o.Client.validate(o.Run, o.Network); err != nil {
			return o, err
		}
	}
	switch {
	case o.Checks == nil && o.Client != nil:
		o.Checks = spec.Clients()
	case o.Checks == nil && o.Network == "udp":
		o.Checks = spec.UDP()
	}
	if o.Rubric == nil {
		rb, err := report.DefaultRubric()
		switch {
		case o.Client != nil:
			rb, err = report.DefaultClientRubric(o.Client.Shape)
		case o.Network == "udp":
			rb, err = report.DefaultUDPRubric()
		}
		if err != nil {
			return o, err
		}
		o.Rubric = rb
	}
	set := func(d *time.Duration, def time.Duration, name string) error {
		if *d == 0 {
			*d = def
		}
		if *d < 0 {
			return fmt.Errorf("invalid %s %v: must be positive", name, *d)
		}
		return nil
	}
	for _, l := range []struct {
		d    *time.Duration
		def  time.Duration
		name string
	}{
		{&o.BuildTimeout, DefaultBuildTimeout, "--build-timeout"},
		{&o.Timeout, DefaultTimeout, "--timeout"},
		{&o.CPULimit, DefaultCPULimit, "--cpu"},
		{&o.StartupTimeout, process.DefaultStartupTimeout, "--startup-timeout"},
	} {
		if err := set(l.d, l.def, l.name); err != nil {
			return o, err
		}
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.ProcLimit == 0 {
		o.ProcLimit = DefaultProcLimit
	}
	if o.FDLimit == 0 {
		o.FDLimit = DefaultFDLimit
	}
	if o.MemoryLimit < 0 || o.ProcLimit < 0 || o.FDLimit < 0 {
		return o, errors.New("limits must be positive")
	}
	if o.WorkDir == "" {
		o.WorkDir = os.TempDir()
	}
	if o.Cgroups == "" {
		o.Cgroups = CgroupsAuto
	}
	if err := o.Shard.validate(); err != nil {
		return o, err
	}
	if o.Resume && o.Out == "" {
		return o, errors.New("--resume needs --out: it resumes the run that wrote there")
	}
	if o.CPUs != 0 && (o.CPUs < 0.01 || o.CPUs > 1024) {
		return o, fmt.Errorf("invalid --cpus %g: want 0 (no cap) or 0.01..1024", o.CPUs)
	}
	return o, nil
}

// identity is who runs a submission's processes.
type identity struct {
	cred      *syscall.Credential // nil: the grader's own user
	uid       int
	dedicated bool // every process of uid belongs to this slot
	name      string
}

// identities returns one identity per parallel slot.
func (o Options) identities() ([]identity, error) {
	ids := make([]identity, o.Jobs)
	if os.Geteuid() != 0 {
		for i := range ids {
			ids[i] = identity{uid: os.Getuid(), name: "self (not root: no privilege drop; the process limit is per user)"}
		}
		return ids, nil
	}
	uid, gid, err := lookupUser(o.User)
	if err != nil {
		return nil, err
	}
	if uid == 0 {
		return nil, fmt.Errorf("--user %q is root: submissions must run unprivileged", o.User)
	}
	for i := range ids {
		u, dedicated := uid, false
		if o.UIDBase > 0 {
			u, dedicated = o.UIDBase+i, true
		}
		ids[i] = identity{
			cred:      &syscall.Credential{Uid: uint32(u), Gid: uint32(gid), Groups: []uint32{}},
			uid:       u,
			dedicated: dedicated,
			name:      fmt.Sprintf("uid %d", u),
		}
	}
	return ids, nil
}

// lookupUser resolves a user name or numeric uid to uid and primary gid.
func lookupUser(name string) (uid, gid int, err error) {
	if n, err := strconv.Atoi(name); err == nil {
		if u, err := user.LookupId(name); err == nil {
			g, _ := strconv.Atoi(u.Gid)
			return n, g, nil
		}
		return n, n, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: %w", name, err)
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: uid %q: %w", name, u.Uid, err)
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: gid %q: %w", name, u.Gid, err)
	}
	return uid, gid, nil
}
