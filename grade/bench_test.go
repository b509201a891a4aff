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
// whole catalogue, alone and then beside a fork bomb that listens (-j 2),
// with a cgroup per submission and with sessions alone. correct-s/op is
// how long the correct submission took; its ratio to "alone" is the
// slowdown a hostile neighbour causes. Every run must score full marks.
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
		name    string
		bomb    bool
		cgroups string
	}{
		{"alone", false, grade.CgroupsAuto},
		{"beside-bomb/cgroups", true, grade.CgroupsRequired},
		{"beside-bomb/sessions-only", true, grade.CgroupsOff},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.cgroups == grade.CgroupsRequired {
				if is, err := grade.IsolationOf(grade.Options{Cgroups: grade.CgroupsRequired}); err != nil {
					b.Skip("no cgroups here: " + err.Error())
				} else if !is.Cgroups {
					b.Skip("no cgroups here: " + is.Reason)
				}
			}
			class := b.TempDir()
			if err := os.CopyFS(filepath.Join(class, "correct"), os.DirFS(filepath.Join(classDir, "correct"))); err != nil {
				b.Fatal(err)
			}
			if bc.bomb {
				if err := os.CopyFS(filepath.Join(class, "listening-forkbomb"), os.DirFS(filepath.Join("..", "testdata", "neighbours", "listening-forkbomb"))); err != nil {
					b.Fatal(err)
				}
			}
			work := b.TempDir()
			if err := os.Chmod(work, 0o711); err != nil {
				b.Fatal(err)
			}
			// Dedicated uids, so that only the CPU is shared without
			// cgroups; the bomb is stopped after 15 s.
			o := grade.Options{Jobs: 2, WorkDir: work, UIDBase: testUIDBase + 8, Cgroups: bc.cgroups, Timeout: 15 * time.Second}
			var total time.Duration
			for b.Loop() {
				results, err := grade.Grade(context.Background(), class, o)
				if err != nil {
					b.Fatal(err)
				}
				r := results[0]
				if r.Score != r.MaxScore {
					b.Fatalf("the correct submission scored %v of %v: %v", r.Score, r.MaxScore, r.FailedChecks)
				}
				total += r.Duration
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "correct-s/op")
		})
	}
}
