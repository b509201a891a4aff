package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// hierarchy is where this process makes its groups.
type hierarchy struct {
	version int
	// v2 is the directory that holds the groups (version 2).
	v2 string
	// cpu, pids and memory hold the groups in the version 1 hierarchies;
	// memory is "" when that controller cannot be used.
	cpu, pids, memory string
	// memoryReason says why memory is "" (version 1).
	memoryReason string
}

// mount is one cgroup file system from /proc/self/mountinfo.
type mount struct {
	root, point string   // the mount's root within its hierarchy, and where it is mounted
	v2          bool     // cgroup2
	controllers []string // version 1: the controllers bound to it
}

// discover finds a usable hierarchy: version 2 when its root offers the cpu
// and pids controllers, else version 1 when the cpu and pids hierarchies
// are mounted and writable. The error says why neither can be used.
var discover = sync.OnceValues(func() (*hierarchy, error) {
	mounts, err := readMounts("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	own, err := readOwnCgroups("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	var why []string
	for _, m := range mounts {
		if !m.v2 {
			continue
		}
		h, err := unified(m)
		if err == nil {
			removeStale(h)
			return h, nil
		}
		why = append(why, "v2: "+err.Error())
	}
	h, err := perController(mounts, own)
	if err == nil {
		removeStale(h)
		return h, nil
	}
	why = append(why, "v1: "+err.Error())
	return nil, fmt.Errorf("no usable cgroup hierarchy (%s)", strings.Join(why, "; "))
})

// unified returns the version 2 hierarchy of m when its root offers cpu and
// pids to its children, enabling them (and memory, when offered) if needed.
func unified(m mount) (*hierarchy, error) {
	dir := m.point
	offered, err := readWords(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil, err
	}
	enabled, err := readWords(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return nil, err
	}
	for _, c := range []string{"cpu", "pids", "memory"} {
		if slices.Contains(enabled, c) {
			continue
		}
		if !slices.Contains(offered, c) {
			if c == "memory" {
				continue
			}
			return nil, fmt.Errorf("%s does not offer the %s controller", dir, c)
		}
		if err := writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+"+c); err != nil {
			if c == "memory" {
				continue
			}
			return nil, fmt.Errorf("enable the %s controller in %s: %w", c, dir, err)
		}
	}
	if err := probe(dir); err != nil {
		return nil, err
	}
	return &hierarchy{version: 2, v2: dir}, nil
}

// perController returns the version 1 hierarchies of cpu, pids and, when
// usable, memory, each at this process's own cgroup there.
func perController(mounts []mount, own map[string]string) (*hierarchy, error) {
	h := &hierarchy{version: 1}
	for _, c := range []struct {
		name string
		dir  *string
	}{{"cpu", &h.cpu}, {"pids", &h.pids}, {"memory", &h.memory}} {
		dir, err := controllerDir(mounts, own, c.name)
		if err == nil {
			err = probe(dir)
		}
		if err != nil {
			if c.name == "memory" {
				h.memoryReason = err.Error()
				continue
			}
			return nil, err
		}
		*c.dir = dir
	}
	return h, nil
}

// controllerDir is the directory of this process's own cgroup in the
// version 1 hierarchy of controller.
func controllerDir(mounts []mount, own map[string]string, controller string) (string, error) {
	for _, m := range mounts {
		if m.v2 || !slices.Contains(m.controllers, controller) {
			continue
		}
		path, ok := own[controller]
		if !ok {
			return "", fmt.Errorf("/proc/self/cgroup has no %s line", controller)
		}
		rel, err := filepath.Rel(m.root, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			return "", fmt.Errorf("own %s cgroup %s is outside the mount of %s", controller, path, m.root)
		}
		return filepath.Join(m.point, rel), nil
	}
	return "", fmt.Errorf("the %s controller is not mounted", controller)
}

// probe checks that groups can be made in dir by making and removing one.
func probe(dir string) error {
	p := filepath.Join(dir, fmt.Sprintf("echoconf-probe-%d", os.Getpid()))
	if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cannot make groups in %s: %w", dir, err)
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("remove probe group: %w", err)
	}
	return nil
}

// readMounts lists the cgroup file systems of a mountinfo file.
func readMounts(path string) ([]mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"
		f := strings.Fields(sc.Text())
		sep := slices.Index(f, "-")
		if sep < 6 || sep+3 >= len(f) {
			continue
		}
		m := mount{root: unescape(f[3]), point: unescape(f[4])}
		switch f[sep+1] {
		case "cgroup2":
			m.v2 = true
		case "cgroup":
			m.controllers = strings.Split(f[sep+3], ",")
		default:
			continue
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	return out, nil
}

// unescape undoes mountinfo's octal escapes of space, tab, newline and
// backslash.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// readOwnCgroups maps each version 1 controller to this process's cgroup
// path in its hierarchy, from a /proc/PID/cgroup file.
func readOwnCgroups(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read own cgroups: %w", err)
	}
	own := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		// "ID:CONTROLLERS:PATH"; the version 2 line has no controllers.
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || parts[1] == "" {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	return own, nil
}

// readWords returns the space-separated words of a file.
func readWords(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}

// writeFile writes value to an existing cgroup file.
func writeFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(value); err != nil {
		f.Close()
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	return f.Close()
}

// parents are the directories that hold h's groups.
func (h *hierarchy) parents() []string {
	if h.version == 2 {
		return []string{h.v2}
	}
	var out []string
	for _, d := range []string{h.cpu, h.pids, h.memory} {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// removeStale removes the groups that an echoconf process which has ended
// could not remove (it was killed, say), killing what runs in them. A group
// whose maker's pid is alive, maybe reused, is left alone.
func removeStale(h *hierarchy) {
	for _, parent := range h.parents() {
		entries, err := os.ReadDir(parent)
		if err != nil {
			continue
		}
		for _, e := range entries {
			rest, ok := strings.CutPrefix(e.Name(), "echoconf-")
			if !ok || !e.IsDir() {
				continue
			}
			pidText, _, _ := strings.Cut(rest, "-")
			pid, err := strconv.Atoi(pidText)
			if err != nil || pid <= 0 || pid == os.Getpid() {
				continue
			}
			if _, err := os.Stat(filepath.Join("/proc", pidText)); err == nil {
				continue
			}
			d := filepath.Join(parent, e.Name())
			g := &Group{version: h.version, name: e.Name(), dirs: []string{d}, pidsDir: d, released: make(chan struct{})}
			_ = g.Close() // best effort: it is retried by the next process
		}
	}
}
