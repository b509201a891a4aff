package grade

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Merge combines the --out directories of several runs of one class
// (typically its shards) into out, which must be new or empty: every
// submission's reports, and summary.csv, index.html and grade.json for the
// whole class, as one run of the whole class would have written them,
// except for timings. It returns the results in class order.
//
// Merge refuses, naming what is wrong: a run that did not complete, runs
// of different echoconf versions (or a version other than this one, which
// renders the class files) or configurations (rubric, selected checks,
// --strict, --repeat, --timeout-scale, --binary, --run, a client's shape
// and terminal), runs of different classes, a submission graded by two
// runs, and submissions graded by none (a missing shard).
func Merge(out string, dirs []string) ([]Result, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no runs to merge")
	}
	if err := emptyOrAbsent(out); err != nil {
		return nil, err
	}
	ms, err := finishedManifests(dirs)
	if err != nil {
		return nil, err
	}
	if err := mergeable(dirs, ms); err != nil {
		return nil, err
	}
	first := ms[0]
	from, err := gradedIn(dirs, ms)
	if err != nil {
		return nil, err
	}
	results, err := mergedResults(first, from)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	for _, n := range first.Class {
		if err := copyReports(filepath.Join(from[n], n), filepath.Join(out, n)); err != nil {
			return nil, fmt.Errorf("submission %s: %w", n, err)
		}
	}
	if err := writeClass(out, results); err != nil {
		return nil, err
	}
	merged := mergedManifest(ms)
	if err := writeJSONFile(filepath.Join(out, FileManifest), &merged); err != nil {
		return nil, err
	}
	return results, nil
}

// finishedManifests reads the manifest of each run; a run that did not
// finish is an error.
func finishedManifests(dirs []string) ([]*Manifest, error) {
	ms := make([]*Manifest, len(dirs))
	for i, d := range dirs {
		m, err := ReadManifest(d)
		if err != nil {
			return nil, err
		}
		if !m.Complete {
			return nil, fmt.Errorf("%s: its run (shard %s) did not finish; run it again with --resume, then merge", d, m.Shard)
		}
		ms[i] = m
	}
	return ms, nil
}

// mergeable reports an error unless every run was graded by this version
// of echoconf, with the same configuration, on the same class.
func mergeable(dirs []string, ms []*Manifest) error {
	first := ms[0]
	for i, m := range ms {
		if m.Version != first.Version {
			return fmt.Errorf("refusing to merge results of different echoconf versions: %s has %s, %s has %s", dirs[0], first.Version, dirs[i], m.Version)
		}
		if d := first.Config.differences(m.Config); len(d) > 0 {
			return fmt.Errorf("refusing to merge results graded differently: %s and %s differ in %s", dirs[0], dirs[i], strings.Join(d, ", "))
		}
		if err := sameClass(dirs[0], first.Class, dirs[i], m.Class); err != nil {
			return err
		}
	}
	if v := Version(); first.Version != v {
		return fmt.Errorf("refusing to merge results of echoconf %s with echoconf %s: merge them with the version that graded them", first.Version, v)
	}
	return nil
}

// gradedIn maps each submission of the class to the run directory that
// graded it; a submission outside the class, graded twice or by no run is
// an error.
func gradedIn(dirs []string, ms []*Manifest) (map[string]string, error) {
	first := ms[0]
	inClass := make(map[string]int, len(first.Class))
	for i, n := range first.Class {
		inClass[n] = i
	}
	from := make(map[string]string, len(first.Class))
	for i, m := range ms {
		for _, n := range m.Submissions {
			if _, ok := inClass[n]; !ok {
				return nil, fmt.Errorf("%s: submission %q is not in its class list", dirs[i], n)
			}
			if prev, ok := from[n]; ok {
				return nil, fmt.Errorf("submission %q is graded twice: in %s and in %s", n, prev, dirs[i])
			}
			from[n] = dirs[i]
		}
	}
	if err := missing(first.Class, from, ms); err != nil {
		return nil, err
	}
	return from, nil
}

// mergedResults reads the record of every submission of the class from
// the run that graded it, in class order.
func mergedResults(first *Manifest, from map[string]string) ([]Result, error) {
	hash := first.Config.hash()
	results := make([]Result, len(first.Class))
	for i, n := range first.Class {
		r, err := readRecord(filepath.Join(from[n], n), n)
		if err != nil {
			return nil, fmt.Errorf("submission %s: %w", n, err)
		}
		if r.Version != first.Version || r.ConfigSHA256 != hash {
			return nil, fmt.Errorf("submission %s in %s was graded by another version or configuration than its run", n, from[n])
		}
		if results[i], err = r.result(everyCheck()); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// mergedManifest is the manifest of one run of the whole class: from the
// earliest start of the runs to the latest end.
func mergedManifest(ms []*Manifest) Manifest {
	first := ms[0]
	merged := *first
	merged.Shard = Shard{}.String()
	merged.Submissions = first.Class
	var end time.Time
	for _, m := range ms {
		if m.Started.Before(merged.Started) {
			merged.Started = m.Started
		}
		if e := m.Started.Add(msDuration(m.DurationMS)); e.After(end) {
			end = e
		}
	}
	merged.DurationMS = float64(end.Sub(merged.Started).Microseconds()) / 1000
	return merged
}

// emptyOrAbsent refuses an output directory with something in it, so that
// a merge never mixes with older files.
func emptyOrAbsent(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("output directory: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("output directory %s is not empty", dir)
	}
	return nil
}

// sameClass returns an error naming the submissions that one class list
// has and the other has not.
func sameClass(dirA string, a []string, dirB string, b []string) error {
	onlyA, onlyB := difference(a, b), difference(b, a)
	if len(onlyA) == 0 && len(onlyB) == 0 {
		return nil
	}
	var parts []string
	if len(onlyA) > 0 {
		parts = append(parts, fmt.Sprintf("only %s has %s", dirA, names(onlyA)))
	}
	if len(onlyB) > 0 {
		parts = append(parts, fmt.Sprintf("only %s has %s", dirB, names(onlyB)))
	}
	return fmt.Errorf("refusing to merge runs that saw different classes: %s", strings.Join(parts, "; "))
}

func difference(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

// missing returns an error naming the submissions no run graded, and the
// shards they belong to when every run is a shard of the same count.
func missing(class []string, from map[string]string, ms []*Manifest) error {
	count := -1
	for _, m := range ms {
		s, err := ParseShard(m.Shard)
		if err != nil || (count >= 0 && s.Count != count) {
			count = 0
			break
		}
		count = s.Count
	}
	byShard := map[int][]string{}
	var all []string
	for i, n := range class {
		if _, ok := from[n]; !ok {
			byShard[shardOf(i, count)] = append(byShard[shardOf(i, count)], n)
			all = append(all, n)
		}
	}
	if len(all) == 0 {
		return nil
	}
	if count <= 1 {
		return fmt.Errorf("no run graded %s", names(all))
	}
	var shards []int
	for k := range byShard {
		shards = append(shards, k)
	}
	sort.Ints(shards)
	var parts []string
	for _, k := range shards {
		parts = append(parts, fmt.Sprintf("%d/%d (%s)", k, count, names(byShard[k])))
	}
	what := "a shard is missing"
	if len(parts) > 1 {
		what = fmt.Sprintf("%d shards are missing", len(parts))
	}
	return fmt.Errorf("%s: %s", what, strings.Join(parts, ", "))
}

// names lists up to five names, and how many more.
func names(ns []string) string {
	what := "submission"
	if len(ns) > 1 {
		what += "s"
	}
	if len(ns) > 5 {
		return fmt.Sprintf("%d %s: %s and %d more", len(ns), what, strings.Join(ns[:5], ", "), len(ns)-5)
	}
	return fmt.Sprintf("%s %s", what, strings.Join(ns, ", "))
}

// copyReports copies the regular files of a submission's directory,
// leaving out temporary files of an interrupted write.
func copyReports(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("read its reports: %w", err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if err := copyReport(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyReport(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}

// ReadRun reads the manifest and the results of the --out directory of a
// complete run, as Merge does.
func ReadRun(dir string) (*Manifest, []Result, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	var results []Result
	for _, n := range m.Submissions {
		r, err := readRecord(filepath.Join(dir, n), n)
		if err != nil {
			return nil, nil, fmt.Errorf("submission %s: %w", n, err)
		}
		res, err := r.result(everyCheck())
		if err != nil {
			return nil, nil, err
		}
		results = append(results, res)
	}
	return m, results, nil
}
