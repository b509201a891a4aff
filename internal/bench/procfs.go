package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// footprint is the resident memory and open descriptors of a process and
// its descendants.
type footprint struct {
	procs int
	rss   int64 // bytes
	fds   int
}

// measureTree reads /proc for pid and every descendant of it.
func measureTree(pid int) (footprint, error) {
	pids := append([]int{pid}, descendants(pid)...)
	var fp footprint
	for i, p := range pids {
		rss, err := rssOf(p)
		if err != nil {
			if i == 0 {
				return fp, fmt.Errorf("server process %d: %w", pid, err)
			}
			continue // a child that just ended
		}
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p))
		if err != nil {
			if i == 0 {
				return fp, fmt.Errorf("server process %d: %w", pid, err)
			}
			continue
		}
		fp.procs++
		fp.rss += rss
		fp.fds += len(ents)
	}
	return fp, nil
}

// rssOf returns VmRSS of pid in bytes.
func rssOf(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// descendants returns every process below pid.
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	kids := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(f) < 2 {
			continue
		}
		pp, err := strconv.Atoi(f[1])
		if err == nil {
			kids[pp] = append(kids[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, kids[p]...)
		queue = append(queue, kids[p]...)
	}
	return out
}
