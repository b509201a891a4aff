package main_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/spec"
)

// csvRows parses a summary.csv and drops its timing column.
func csvRows(data []byte) [][]string {
	GinkgoHelper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	Expect(err).NotTo(HaveOccurred())
	for i := range rows {
		Expect(rows[i]).NotTo(BeEmpty())
		rows[i] = rows[i][:len(rows[i])-1]
	}
	return rows
}

var _ = Describe("echoconf grade --client", Ordered, func() {
	// The class's clients are built into echo_client and take the word
	// before the port, as the textbook client does.
	clientFlags := []string{"grade", "--client", "--binary", "echo_client", "--exec", "./echo_client {host} {message} {port}", "-j", "2"}
	want := [][]string{
		{"submission", "score", "max_score", "verdict", "failed_checks", "build_ok"},
		{"alice", "100", "100", "pass", "", "true"},
		{"bob", "88", "100", "fail", "client/sends-exact", "true"},
		{"carol", "0", "100", "build-failed", "build", "false"},
	}
	var class, single string

	BeforeAll(func() {
		if _, err := exec.LookPath("gcc"); err != nil {
			Skip("gcc is not installed: the class of C clients cannot be built")
		}
		class = GinkgoT().TempDir()
		for sub, src := range map[string]string{"alice": "arg-client.c", "bob": "sends-nul.c"} {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "c", "clients", src))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.MkdirAll(filepath.Join(class, sub), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(class, sub, "client.c"), b, 0o644)).To(Succeed())
		}
		Expect(os.MkdirAll(filepath.Join(class, "carol"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(class, "carol", "client.c"), []byte("int main(void) { return 0 }\n"), 0o644)).To(Succeed())
		single = filepath.Join(GinkgoT().TempDir(), "single")
	})

	It("grades a class of clients, prints its summary and writes the reports", func() {
		s := echoconf(3*time.Minute, append(clientFlags, "--out", single, class)...)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		if d := cmp.Diff(want, csvRows(s.Out.Contents())); d != "" {
			Fail("the summary on stdout (-want +got):\n" + d)
		}
		file, err := os.ReadFile(filepath.Join(single, "summary.csv"))
		Expect(err).NotTo(HaveOccurred())
		if d := cmp.Diff(want, csvRows(file)); d != "" {
			Fail("summary.csv (-want +got):\n" + d)
		}
		text, err := os.ReadFile(filepath.Join(single, "bob", "report.txt"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(text)).To(ContainSubstring("client/sends-exact"))
		Expect(string(text)).To(ContainSubstring("NUL"))
		index, err := os.ReadFile(filepath.Join(single, "index.html"))
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Count(string(index), `<tr class="submission"`)).To(Equal(3))
	})

	It("grades it in shards that merge into the same summary", func() {
		var runs []string
		for _, k := range []string{"0/2", "1/2"} {
			out := filepath.Join(GinkgoT().TempDir(), "shard")
			s := echoconf(3*time.Minute, append(clientFlags, "--shard", k, "--out", out, class)...)
			Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
			runs = append(runs, out)
		}
		merged := filepath.Join(GinkgoT().TempDir(), "merged")
		s := echoconf(time.Minute, "grade", "merge", "--out", merged, runs[1], runs[0])
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		if d := cmp.Diff(want, csvRows(s.Out.Contents())); d != "" {
			Fail("the merged summary (-want +got):\n" + d)
		}
		file, err := os.ReadFile(filepath.Join(merged, "summary.csv"))
		Expect(err).NotTo(HaveOccurred())
		if d := cmp.Diff(want, csvRows(file)); d != "" {
			Fail("the merged summary.csv (-want +got):\n" + d)
		}
	})

	It("refuses to resume the client run as a run of another shape", func() {
		s := echoconf(time.Minute, "grade", "--client", "--shape", "stream", "--binary", "echo_client",
			"--exec", "./echo_client {host} {port}", "--resume", "--out", single, class)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("client --shape (stream vs argument)"))
	})

	It("prints the client rubric of the shape", func() {
		for shape, args := range map[spec.Shape][]string{
			spec.ShapeArgument: {"grade", "--client", "--print-rubric"},
			spec.ShapeStream:   {"grade", "--client", "--shape", "stream", "--print-rubric"},
		} {
			s := echoconf(10*time.Second, args...)
			Expect(s.ExitCode()).To(Equal(0))
			Expect(string(s.Out.Contents())).To(Equal(string(report.DefaultClientRubricYAML(shape))))
		}
	})

	DescribeTable("rejects client flags that cannot work, with exit 2 and one line",
		func(msg string, args ...string) {
			args = append([]string{"grade"}, args...)
			args[len(args)-1] = class // some mistakes show only with submissions
			s := echoconf(10*time.Second, args...)
			Expect(s.ExitCode()).To(Equal(2))
			errOut := string(s.Err.Contents())
			Expect(strings.Count(errOut, "\n")).To(Equal(1), errOut)
			Expect(errOut).To(HavePrefix("echoconf: grade: "))
			Expect(errOut).To(ContainSubstring(msg))
		},
		Entry("--shape without --client", "--shape and --tty describe clients: add --client", "--shape", "stream", "CLASS"),
		Entry("--tty without --client", "add --client", "--tty", "CLASS"),
		Entry("an unknown shape", `--shape: unknown client shape "pipe"`, "--client", "--shape", "pipe", "CLASS"),
		Entry("UDP clients", "echo clients are graded over TCP only", "--client", "--udp", "CLASS"),
		Entry("a stdin client without --shape", "give --shape interactive or --shape stream", "--client", "--exec", "./client {host} {port}", "CLASS"),
		Entry("an argument client without {message}", "an argument client needs a {message}", "--client", "--shape", "argument", "--exec", "./client {host} {port}", "CLASS"),
		Entry("a stream client on a terminal", "drop --tty", "--client", "--shape", "stream", "--tty", "CLASS"),
		Entry("a server check", `check pattern "basic" matches no check`, "--client", "--select", "basic", "CLASS"),
	)
})
