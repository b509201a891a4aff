package grade_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/echoconf/echoconf/grade"
)

// BenchmarkBesideForkBomb grades the correct sample submission, with the
// whole catalogue, alone, beside another correct one, and beside a fork
// bomb that listens (-j 2): with a cgroup per submission, capped or not,
// and with sessions alone. correct-s/op is how long the correct
// submission took; its ratio to "beside-correct" is the slowdown that a
// hostile neighbour causes beyond an honest one, and points-lost/op is
// what it cost the correct submission (the bomb is stopped after 10 s,
// which also bounds the correct submission's time).
func BenchmarkBesideForkBomb(b *testing.B) {
	for _, tool := range []string{"gcc", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skip(tool + " is not installed: the submissions cannot be built")
		}
	}
	if os.Geteuid() != 0 {
		b.Skip("not root: the submissions cannot run as dedicated users, and no cgroups can be made")
	}
	for _, bc := range []struct {
		name      string
		neighbour string // testdata directory of the neighbour, "" for none
		cgroups   string
		cpus      float64
	}{
		{"alone", "", grade.CgroupsRequired, 0},
		{"beside-correct/cgroups", "class/correct", grade.CgroupsRequired, 0},
		{"beside-bomb/cgroups", "neighbours/listening-forkbomb", grade.CgroupsRequired, 0},
		{"beside-bomb/cgroups-1cpu", "neighbours/listening-forkbomb", grade.CgroupsRequired, 1},
		{"beside-bomb/sessions-only", "neighbours/listening-forkbomb", grade.CgroupsOff, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.cgroups == grade.CgroupsRequired {
				if _, err := grade.IsolationOf(grade.Options{Cgroups: grade.CgroupsRequired}); err != nil {
					b.Skip("no cgroups here: " + err.Error())
				}
			}
			class := b.TempDir()
			if err := os.CopyFS(filepath.Join(class, "correct"), os.DirFS(filepath.Join(classDir, "correct"))); err != nil {
				b.Fatal(err)
			}
			if bc.neighbour != "" {
				// "neighbour" sorts after "correct": results[0] is the correct one.
				if err := os.CopyFS(filepath.Join(class, "neighbour"), os.DirFS(filepath.Join("..", "testdata", bc.neighbour))); err != nil {
					b.Fatal(err)
				}
			}
			// Not b.TempDir: its parent is private, and the submissions'
			// users must reach their work directories.
			work, err := os.MkdirTemp("", "echoconf-bench-")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { os.RemoveAll(work) })
			if err := os.Chmod(work, 0o711); err != nil {
				b.Fatal(err)
			}
			// Dedicated uids, so that only the CPU is shared without
			// cgroups; the bomb is stopped after 15 s.
			o := grade.Options{Jobs: 2, WorkDir: work, UIDBase: testUIDBase + 8, Cgroups: bc.cgroups, CPUs: bc.cpus, Timeout: 10 * time.Second}
			var total time.Duration
			var lost float64
			for b.Loop() {
				results, err := grade.Grade(context.Background(), class, o)
				if err != nil {
					b.Fatal(err)
				}
				r := results[0]
				if r.Err != nil {
					b.Fatalf("the correct submission could not be graded: %v", r.Err)
				}
				if r.Score != r.MaxScore {
					b.Logf("the correct submission lost %v points: %v", r.MaxScore-r.Score, r.FailedChecks)
				}
				total += r.Duration
				lost += r.MaxScore - r.Score
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "correct-s/op")
			b.ReportMetric(lost/float64(b.N), "points-lost/op")
		})
	}
}
