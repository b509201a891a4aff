package grade

import (
	"fmt"
	"os/exec"
	"time"

	"github.com/echoconf/echoconf/internal/cgroup"
)

// Cgroup modes of Options.Cgroups.
const (
	CgroupsAuto     = "auto"     // a cgroup per submission where they can be made, else process groups only
	CgroupsRequired = "required" // a cgroup per submission, or the run does not start
	CgroupsOff      = "off"      // process groups and sessions only
)

// killTimeout bounds the killing of what a submission left in its cgroup.
const killTimeout = 5 * time.Second

// Isolation says how a grading run keeps submissions apart.
type Isolation struct {
	// Cgroups is true when every submission has a cgroup of its own.
	Cgroups bool
	// Version is the cgroup version in use (1 or 2) when Cgroups is set.
	Version int
	// Reason says why cgroups are not used, when they are not.
	Reason string
}

// String is one line for a person: what contains each submission.
func (is Isolation) String() string {
	if is.Cgroups {
		return fmt.Sprintf("a cgroup (v%d) per submission bounds its processes, CPU and memory as a whole", is.Version)
	}
	return "process groups and sessions only (" + is.Reason + ")"
}

// isolation decides, once per run, whether submissions get cgroups.
func (o Options) isolation() (Isolation, error) {
	switch o.Cgroups {
	case CgroupsOff:
		return Isolation{Reason: "--cgroups off"}, nil
	case CgroupsAuto, CgroupsRequired:
	default:
		return Isolation{}, fmt.Errorf("invalid --cgroups %q: want auto, required or off", o.Cgroups)
	}
	// Available has made and removed a group in every hierarchy it uses.
	v, err := cgroup.Available()
	if err != nil {
		if o.Cgroups == CgroupsRequired {
			return Isolation{}, fmt.Errorf("--cgroups required: %w", err)
		}
		return Isolation{Reason: err.Error()}, nil
	}
	return Isolation{Cgroups: true, Version: v}, nil
}

// container holds one submission's processes: its cgroup when the run has
// them, else nothing beyond the process groups the starters make.
type container struct {
	g     *cgroup.Group // nil without cgroups
	limit int           // the process limit, for notes
}

// newContainer makes the container of submission name.
func newContainer(name string, o Options, is Isolation) (*container, error) {
	if !is.Cgroups {
		return &container{}, nil
	}
	g, err := cgroup.New(name, cgroup.Limits{Pids: o.ProcLimit, CPUs: o.CPUs, Memory: o.MemoryLimit})
	if err != nil {
		return nil, err
	}
	return &container{g: g, limit: o.ProcLimit}, nil
}

// start is the starter of the submission's commands: inside the cgroup,
// or nil (cmd.Start) without one.
func (c *container) start() func(*exec.Cmd) error {
	if c.g == nil {
		return nil
	}
	return c.g.Start
}

// kill kills every process left in the cgroup and returns how many
// survived; 0 without a cgroup.
func (c *container) kill() int {
	if c.g == nil {
		return 0
	}
	left, err := c.g.Kill(killTimeout)
	if err != nil {
		return 0
	}
	return left
}

// notes are the grader's remarks on what the kernel had to contain.
func (c *container) notes() []string {
	if c.g == nil {
		return nil
	}
	s := c.g.Stats()
	var out []string
	if s.ForksRefused > 0 {
		out = append(out, fmt.Sprintf("the process limit of %d refused %d forks or thread creations", c.limit, s.ForksRefused))
	}
	if s.OOMKills > 0 {
		out = append(out, fmt.Sprintf("the memory limit killed %d processes", s.OOMKills))
	}
	return out
}

// close kills what is left and removes the cgroup; the error is only for
// processes that survived or a cgroup that could not be removed.
func (c *container) close() error {
	if c.g == nil {
		return nil
	}
	return c.g.Close()
}
