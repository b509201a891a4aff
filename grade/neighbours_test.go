package grade_test

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/grade"
)

// ownCgroups lists the cgroup directories this test process made that are
// still there, in any hierarchy.
func ownCgroups() []string {
	var left []string
	prefix := "echoconf-" + strconv.Itoa(os.Getpid()) + "-*"
	for _, pattern := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/*", "/sys/fs/cgroup/*/*", "/sys/fs/cgroup/*/*/*"} {
		m, _ := filepath.Glob(filepath.Join(pattern, prefix))
		left = append(left, m...)
	}
	return left
}

// serversOf lists the running processes named server of uid, as
// "PID COMMAND" lines.
func serversOf(uid int) []string {
	out, err := exec.Command("ps", "-o", "pid=,comm=", "-u", strconv.Itoa(uid)).Output()
	if err != nil {
		return nil // ps exits 1 when it lists nothing
	}
	var left []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == "server" {
			left = append(left, line)
		}
	}
	return left
}

var _ = Describe("a submission graded beside a fork bomb", Ordered, func() {
	var (
		results []grade.Result
		nobody  int
	)

	BeforeAll(func() {
		requireToolchain()
		if os.Geteuid() != 0 {
			Skip("not root: submissions run as this user and no cgroups can be made")
		}
		is, err := grade.IsolationOf(grade.Options{})
		Expect(err).NotTo(HaveOccurred())
		if !is.Cgroups {
			Skip("no cgroups here, so neighbours are not isolated: " + is.Reason)
		}
		class := GinkgoT().TempDir()
		Expect(os.CopyFS(filepath.Join(class, "correct"), os.DirFS(filepath.Join(classDir, "correct")))).To(Succeed())
		Expect(os.CopyFS(filepath.Join(class, "listening-forkbomb"), os.DirFS(filepath.Join("..", "testdata", "neighbours", "listening-forkbomb")))).To(Succeed())
		o := gradeOptions("", 3)
		// One user for both slots: without a cgroup each, the bomb's
		// processes would use up the user's process limit, and the
		// correct server could not start a thread per client.
		o.UIDBase = 0
		// The concurrency checks need a thread per client; basic keeps
		// the bomb's grading short.
		o.Select = []string{"basic", "concurrency"}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		results, err = grade.Grade(ctx, class, o)
		Expect(err).NotTo(HaveOccurred())
		Expect(results).To(HaveLen(2))
		u, err := user.Lookup(grade.DefaultUser)
		Expect(err).NotTo(HaveOccurred())
		nobody, err = strconv.Atoi(u.Uid)
		Expect(err).NotTo(HaveOccurred())
	})

	It("scores it as if it ran alone", func() {
		r := results[0]
		Expect(r.Submission).To(Equal("correct"))
		Expect(r.Err).NotTo(HaveOccurred())
		Expect(r.Score).To(Equal(r.MaxScore), "the failures:\n%s", failuresOf(results))
		Expect(r.Verdict).To(Equal(grade.VerdictPass))
	})

	It("grades the bomb, says its process limit held, and leaves nothing running", func() {
		r := results[1]
		Expect(r.Submission).To(Equal("listening-forkbomb"))
		Expect(r.Err).NotTo(HaveOccurred())
		Expect(r.Verdict).To(Equal(grade.VerdictFail))
		Expect(r.Notes).To(ContainElement(MatchRegexp(`^the process limit of \d+ refused \d+ forks`)))
		for _, r := range results {
			Expect(r.Leftovers).To(BeZero(), r.Submission)
		}
		Expect(ownCgroups()).To(BeEmpty(), "every submission's cgroup is removed")
		Eventually(func() []string { return serversOf(nobody) }).WithTimeout(5 * time.Second).Should(BeEmpty())
	})
})
