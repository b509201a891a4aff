package cgroup

// Exported for the tests of package cgroup_test.
var (
	ReadMounts     = readMounts
	ReadOwnCgroups = readOwnCgroups
	Clean          = clean
)

// MountView is a mount's fields, for comparison in tests.
type MountView struct {
	Root, Point string
	V2          bool
	Controllers []string
}

// ViewMounts returns the fields of ms.
func ViewMounts(ms []mount) []MountView {
	var out []MountView
	for _, m := range ms {
		out = append(out, MountView{m.root, m.point, m.v2, m.controllers})
	}
	return out
}

// Dirs are the group's directories.
func (g *Group) Dirs() []string { return g.dirs }

// Parents are the directories that hold the groups.
func Parents() []string {
	h, err := discover()
	if err != nil {
		return nil
	}
	return h.parents()
}

// RemoveStale removes the groups of ended echoconf processes.
func RemoveStale() {
	if h, err := discover(); err == nil {
		removeStale(h)
	}
}
