package main_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/gallery"
)

// earlyCloseRuns is how many times in a row each server is checked: before
// the fix, close-at-once made check exit 2 ("interrupted") on 9 runs of 9
// and poll-once on several of 10.
const earlyCloseRuns = 6

// earlyClosers are gallery servers that close connections mid-exchange, so
// that echoconf's writes to them fail with EPIPE.
var earlyClosers = []string{"close-at-once", "poll-once"}

// earlyCloseParallel is how many of those runs go at once.
const earlyCloseParallel = 3

// earlyCloseUIDBase is the first of the dedicated uids the early-close
// gradings run as, when root: apart from the examples' (63000+) and the
// grade package's (61000+), and never nobody, whose servers the grade
// package's tests watch.
const earlyCloseUIDBase = 63500

// buildGallery builds the named gallery servers into a temporary directory
// and returns name -> binary.
func buildGallery(names ...string) map[string]string {
	GinkgoHelper()
	requireGCC()
	m, err := gallery.Load()
	Expect(err).NotTo(HaveOccurred())
	dir := GinkgoT().TempDir()
	bins := make(map[string]string)
	for _, n := range names {
		p, ok := m.Server(n)
		Expect(ok).To(BeTrue(), "the manifest has %s", n)
		bin, err := m.Build(GinkgoT().Context(), p, dir)
		Expect(err).NotTo(HaveOccurred())
		bins[n] = bin
	}
	return bins
}

// classOf makes a class directory of one submission per named gallery
// server, each holding the server's C source as server.c.
func classOf(names ...string) string {
	GinkgoHelper()
	m, err := gallery.Load()
	Expect(err).NotTo(HaveOccurred())
	class := GinkgoT().TempDir()
	Expect(os.Chmod(class, 0o755)).To(Succeed())
	for _, n := range names {
		p, ok := m.Server(n)
		Expect(ok).To(BeTrue(), "the manifest has %s", n)
		Expect(p.Sources).To(HaveLen(1))
		src, err := os.ReadFile(filepath.Join(m.Dir, p.Sources[0]))
		Expect(err).NotTo(HaveOccurred())
		sub := filepath.Join(class, n)
		Expect(os.Mkdir(sub, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(sub, "server.c"), src, 0o644)).To(Succeed())
	}
	return class
}

var _ = Describe("a server that closes connections mid-exchange", func() {
	It("is checked to the end: exit 1 and a report, never exit 2 (issue 10)", func() {
		bins := buildGallery(earlyClosers...)
		// The runs are independent and mostly wait: a few at a time.
		concurrently(len(earlyClosers)*earlyCloseRuns, earlyCloseParallel, func(i int) {
			name, run := earlyClosers[i/earlyCloseRuns], i%earlyCloseRuns
			out := filepath.Join(GinkgoT().TempDir(), "r.json")
			s := echoconf(2*time.Minute, "check", "--format", "json", "--output", out, "--exec", bins[name]+" {port}")
			where := fmt.Sprintf("%s, run %d: %s", name, run+1, s.Err.Contents())
			Expect(s.ExitCode()).To(Equal(1), where)
			Expect(string(s.Err.Contents())).NotTo(ContainSubstring("interrupted"), where)
			var doc struct {
				Verdict string `json:"verdict"`
				Checks  []struct{ ID, Status, Message string }
			}
			data, err := os.ReadFile(out)
			Expect(err).NotTo(HaveOccurred(), where)
			Expect(json.Unmarshal(data, &doc)).To(Succeed(), where)
			Expect(doc.Verdict).To(Equal("fail"), where)
			for _, c := range doc.Checks {
				Expect(c.Message).NotTo(ContainSubstring("cancelled"), "%s: %s", where, c.ID)
			}
		})
	})

	It("is graded to the end with -j 1 and -j 2 (issue 10)", func() {
		class := classOf(earlyClosers...)
		jobs := []string{"1", "2"}
		const runs = 3
		// Independent gradings, a few at a time; as root, each on its own
		// uids (2 per grading), so that they share no process limit.
		concurrently(len(jobs)*runs, earlyCloseParallel, func(i int) {
			jobs, run := jobs[i/runs], i%runs
			out := GinkgoT().TempDir()
			s := echoconf(5*time.Minute, "grade", "-j", jobs, "--uid-base", strconv.Itoa(earlyCloseUIDBase+2*i), "--out", out, class)
			where := fmt.Sprintf("-j %s, run %d: %s", jobs, run+1, s.Err.Contents())
			Expect(s.ExitCode()).To(Equal(0), where)
			Expect(string(s.Err.Contents())).NotTo(ContainSubstring("interrupted"), where)
			f, err := os.Open(filepath.Join(out, "summary.csv"))
			Expect(err).NotTo(HaveOccurred(), where)
			rows, err := csv.NewReader(f).ReadAll()
			f.Close()
			Expect(err).NotTo(HaveOccurred(), where)
			Expect(rows).To(HaveLen(1+len(earlyClosers)), where)
			for _, row := range rows[1:] {
				Expect(row[3]).To(Equal("fail"), "%s: %v", where, row)
				report, err := os.ReadFile(filepath.Join(out, row[0], "report.txt"))
				Expect(err).NotTo(HaveOccurred(), where)
				Expect(string(report)).NotTo(ContainSubstring("cancelled"), "%s: %s", where, row[0])
			}
		})
	})
})

func requireGCC() {
	GinkgoHelper()
	if _, err := exec.LookPath("gcc"); err != nil {
		Skip("gcc is not installed: the gallery servers cannot be built")
	}
}
