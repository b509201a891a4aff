package cgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Stats are what the kernel counted for a group. A counter the kernel does
// not keep (an older kernel, or a controller that is not in use) is 0.
type Stats struct {
	// PidsPeak is the most processes and threads the group had at once.
	PidsPeak int
	// ForksRefused counts forks and thread creations that Limits.Pids
	// refused, leaving out those refused while Kill was killing the group.
	ForksRefused int
	// MemoryPeak is the most memory the group used at once, in bytes.
	MemoryPeak int64
	// OOMKills counts processes that Limits.Memory killed.
	OOMKills int
	// Throttled is how long Limits.CPUs held the group back.
	Throttled time.Duration
}

// Stats reads the group's counters. It never fails: a counter that cannot
// be read is 0.
func (g *Group) Stats() Stats {
	var s Stats
	s.PidsPeak = int(readInt(filepath.Join(g.pidsDir, "pids.peak")))
	s.ForksRefused = g.forksRefused()
	g.mu.Lock()
	s.ForksRefused = max(s.ForksRefused-g.refusedInKills, 0)
	g.mu.Unlock()
	if g.version == 2 {
		if g.memDir != "" {
			s.MemoryPeak = readInt(filepath.Join(g.memDir, "memory.peak"))
			s.OOMKills = int(readKey(filepath.Join(g.memDir, "memory.events"), "oom_kill"))
		}
		s.Throttled = time.Duration(readKey(filepath.Join(g.cpuDir, "cpu.stat"), "throttled_usec")) * time.Microsecond
		return s
	}
	if g.memDir != "" {
		s.MemoryPeak = readInt(filepath.Join(g.memDir, "memory.max_usage_in_bytes"))
		s.OOMKills = int(readKey(filepath.Join(g.memDir, "memory.oom_control"), "oom_kill"))
	}
	s.Throttled = time.Duration(readKey(filepath.Join(g.cpuDir, "cpu.stat"), "throttled_time")) // nanoseconds
	return s
}

// forksRefused is the kernel's count of the forks that pids.max refused.
func (g *Group) forksRefused() int {
	return int(readKey(filepath.Join(g.pidsDir, "pids.events"), "max"))
}

// readInt reads a file that holds one integer.
func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// readKey reads the integer after key in a file of "key value" lines.
func readKey(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}
