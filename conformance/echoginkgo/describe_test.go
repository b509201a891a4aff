package echoginkgo_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/gallery"
	"github.com/echoconf/echoconf/spec"
)

// shortCategories are the categories the real-server specs check.
var shortCategories = []string{spec.CategoryBasic, spec.CategoryPartial, spec.CategoryHalfClose}

// shortIDs lists the IDs of the checks in shortCategories.
func shortIDs() []string {
	var ids []string
	for _, c := range spec.All() {
		if slices.Contains(shortCategories, c.Category()) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// galleryServer builds the gallery server name from testdata/ and starts it
// by address for the current spec. It returns its address with what the
// manifest fixes about shortCategories there: the checks whose status it
// fixes and those of them that fail.
func galleryServer(name string) (addr string, run, fail []string) {
	GinkgoHelper()
	s, err := gallery.Serve(context.Background(), name, GinkgoT().TempDir(), shortIDs())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Stop)
	return s.Addr(), s.Run, s.Fail
}

// fixturePackage is a user's suite calling DescribeServer.
const fixturePackage = "github.com/echoconf/echoconf/conformance/echoginkgo/testdata/fixture"

// fixtureRun is what one run of the fixture suite reported, by spec text
// (the check ID).
type fixtureRun struct {
	Specs map[string]types.SpecReport
	Err   error
}

// withState returns the sorted IDs of the specs in state.
func (r fixtureRun) withState(state types.SpecState) []string {
	var out []string
	for id, s := range r.Specs {
		if s.State == state {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// runFixture runs the compiled fixture suite with env and extra Ginkgo
// flags, in its own process group (killed after timeout), and parses its
// JSON report.
func runFixture(bin string, timeout time.Duration, env []string, flags ...string) fixtureRun {
	GinkgoHelper()
	report := filepath.Join(GinkgoT().TempDir(), "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append([]string{"-ginkgo.json-report=" + report, "-ginkgo.no-color", "-test.timeout=" + timeout.String()}, flags...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	Expect(ctx.Err()).NotTo(HaveOccurred(), "the fixture suite timed out:\n%s", out.String())
	data, rerr := os.ReadFile(report)
	Expect(rerr).NotTo(HaveOccurred(), "the fixture wrote no report:\n%s", out.String())
	var reports []types.Report
	Expect(json.Unmarshal(data, &reports)).To(Succeed())
	Expect(reports).To(HaveLen(1))
	r := fixtureRun{Specs: map[string]types.SpecReport{}, Err: err}
	for _, s := range reports[0].SpecReports {
		if s.LeafNodeType == types.NodeTypeIt {
			r.Specs[s.LeafNodeText] = s
		}
	}
	return r
}

// describeServerLine returns the line of the fixture's DescribeServer call.
func describeServerLine() int {
	GinkgoHelper()
	f, err := os.Open(filepath.Join("testdata", "fixture", "fixture_test.go"))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.HasSuffix(sc.Text(), "// DescribeServer call") {
			return line
		}
	}
	Fail("no DescribeServer call in the fixture")
	return 0
}

// expectIDs compares two sets of check IDs with go-cmp.
func expectIDs(got, want []string, what string) {
	GinkgoHelper()
	want = slices.Clone(want)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		Fail(fmt.Sprintf("%s differ (-want +got):\n%s", what, diff))
	}
}

var _ = Describe("DescribeServer", Ordered, func() {
	var bin string
	BeforeAll(func() {
		var err error
		bin, err = gexec.CompileTest(fixturePackage)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
	})

	Context("with the synthetic catalogue", func() {
		var env []string
		BeforeEach(func() {
			srv := echotest.NewServer()
			DeferCleanup(srv.Close)
			env = []string{"ECHOCONF_FIXTURE_ADDR=" + srv.Addr, "ECHOCONF_FIXTURE_CHECKS=synthetic"}
		})

		It("adds one It per check, reporting each outcome", func() {
			r := runFixture(bin, time.Minute, env)
			Expect(r.Err).To(HaveOccurred(), "the suite must fail: demo/fail fails")
			expectIDs(r.withState(types.SpecStateFailed), []string{"demo/fail"}, "failed specs")
			expectIDs(r.withState(types.SpecStatePassed), []string{"demo/pass", "demo/warn", "other/exclusive"}, "passed specs")
			expectIDs(r.withState(types.SpecStateSkipped), []string{"demo/skip"}, "skipped specs")

			fail := r.Specs["demo/fail"].Failure
			Expect(fail.Message).To(HavePrefix("demo/fail (MUST) failed: The synthetic requirement demo/fail holds."))
			Expect(fail.Message).To(ContainSubstring("wrong-bytes (altered) at offset 1"))
			Expect(fail.Message).To(ContainSubstring("|hallo|"))
			Expect(r.Specs["demo/skip"].Failure.Message).To(Equal("needs the server process (exec mode)"))

			entries := r.Specs["demo/warn"].ReportEntries
			Expect(entries).To(HaveLen(1))
			Expect(entries[0].Name).To(Equal("echoconf warning"))
			Expect(entries[0].StringRepresentation()).To(ContainSubstring("demo/warn (SHOULD) failed (warning only"))
		})

		It("labels each spec with its category and level, and makes exclusive checks Serial", func() {
			r := runFixture(bin, time.Minute, env)
			labels := map[string][]string{}
			serial := map[string]bool{}
			for id, s := range r.Specs {
				labels[id] = s.Labels()
				serial[id] = s.IsSerial
			}
			want := map[string][]string{
				"demo/pass":       {"fixture", "demo", "must"},
				"demo/fail":       {"fixture", "demo", "must"},
				"demo/warn":       {"fixture", "demo", "should"},
				"demo/skip":       {"fixture", "demo", "must"},
				"other/exclusive": {"fixture", "other", "must", "Serial", "exclusive"}, // Ginkgo labels Serial specs "Serial"
			}
			Expect(cmp.Diff(want, labels)).To(BeEmpty())
			Expect(cmp.Diff(map[string]bool{"demo/pass": false, "demo/fail": false, "demo/warn": false, "demo/skip": false, "other/exclusive": true}, serial)).To(BeEmpty())
		})

		It("points every spec at the user's DescribeServer call", func() {
			r := runFixture(bin, time.Minute, env)
			line := describeServerLine()
			for id, s := range r.Specs {
				Expect(s.LeafNodeLocation.FileName).To(HaveSuffix("testdata/fixture/fixture_test.go"), id)
				Expect(s.LeafNodeLocation.LineNumber).To(Equal(line), id)
				Expect(s.ContainerHierarchyLocations).To(HaveLen(1))
				Expect(s.ContainerHierarchyLocations[0].LineNumber).To(Equal(line), id)
			}
		})

		It("fails SHOULD violations under WithStrict", func() {
			r := runFixture(bin, time.Minute, append(env, "ECHOCONF_FIXTURE_STRICT=1"))
			expectIDs(r.withState(types.SpecStateFailed), []string{"demo/fail", "demo/warn"}, "failed specs")
		})

		It("is selected by --label-filter", func() {
			r := runFixture(bin, time.Minute, env, "-ginkgo.label-filter=demo && must && !exclusive")
			ran := append(r.withState(types.SpecStatePassed), r.withState(types.SpecStateFailed)...)
			slices.Sort(ran)
			expectIDs(ran, []string{"demo/fail", "demo/pass"}, "specs that ran")
		})

		It("turns a bad pattern into one failing spec", func() {
			r := runFixture(bin, time.Minute, append(env, "ECHOCONF_FIXTURE_RUN=nosuch"))
			expectIDs(r.withState(types.SpecStateFailed), []string{"has valid echoconf options"}, "failed specs")
			Expect(r.Specs["has valid echoconf options"].Failure.Message).To(ContainSubstring(`"nosuch" matches no check`))
		})
	})

	DescribeTable("fails exactly the specs of the checks a real server violates",
		func(start func() (addr string, run, fail []string)) {
			addr, run, want := start()
			// Three categories keep the run short: DescribeServer runs checks
			// one spec at a time, and each failure waits out a timeout.
			r := runFixture(bin, 3*time.Minute, []string{"ECHOCONF_FIXTURE_ADDR=" + addr, "ECHOCONF_FIXTURE_RUN=" + strings.Join(run, ",")})
			expectIDs(r.withState(types.SpecStateFailed), want, "failed specs")
			expectIDs(slices.Sorted(maps.Keys(r.Specs)), run, "specs")
			for _, id := range want {
				Expect(r.Specs[id].Failure.Message).To(HavePrefix(id + " (MUST) failed: "))
			}
		},
		Entry("the reference server", func() (string, []string, []string) {
			srv := echotest.NewServer()
			DeferCleanup(srv.Close)
			return srv.Addr, shortIDs(), nil
		}),
		Entry("no-close.c: a thread that never closes its socket (no FIN)", func() (string, []string, []string) {
			return galleryServer("no-close")
		}),
		Entry("fixed-64k.c: a buffer that stops recycling after 64 KiB", func() (string, []string, []string) {
			return galleryServer("fixed-64k")
		}),
	)
})
