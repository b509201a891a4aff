package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// readmeSection returns the README's section headed heading, up to the
// next heading of its level.
func readmeSection(heading string) string {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	Expect(err).NotTo(HaveOccurred())
	s := string(data)
	i := strings.Index(s, "\n"+heading+"\n")
	Expect(i).To(BeNumerically(">=", 0), "README has no section %q", heading)
	s = s[i+len(heading)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// consoleSession is one "$ command" of a README console block, the output
// it shows and the exit status a following "$ echo $?" shows.
type consoleSession struct {
	command, output string
	code            int
}

// consoleSessions parses the ```console blocks of section.
func consoleSessions(section string) []consoleSession {
	GinkgoHelper()
	var out []consoleSession
	for _, m := range regexp.MustCompile("(?s)```console\n(.*?)```").FindAllStringSubmatch(section, -1) {
		lines := strings.SplitAfter(m[1], "\n")
		for i := 0; i < len(lines); i++ {
			if !strings.HasPrefix(lines[i], "$ ") {
				continue
			}
			cmd := strings.TrimSpace(strings.TrimPrefix(lines[i], "$ "))
			var b strings.Builder
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "$ ") {
				i++
				b.WriteString(lines[i])
			}
			if cmd == "echo $?" {
				Expect(out).NotTo(BeEmpty(), "echo $? follows a command")
				code, err := strconv.Atoi(strings.TrimSpace(b.String()))
				Expect(err).NotTo(HaveOccurred())
				out[len(out)-1].code = code
				continue
			}
			out = append(out, consoleSession{command: cmd, output: b.String()})
		}
	}
	return out
}

// durationRE matches the durations of a text report, which differ from
// run to run.
var durationRE = regexp.MustCompile(`\b\d+(\.\d+)?(µs|ms|s)\b`)

// sameButTimes normalises a text report for comparison: durations become
// "D" and runs of spaces one space (durations are right-aligned).
func sameButTimes(s string) string {
	s = durationRE.ReplaceAllString(s, "D")
	return regexp.MustCompile(` +`).ReplaceAllString(s, " ")
}

var _ = Describe("the README", func() {
	It("shows a real failure of a faulty client: the example runs and prints what the README shows", func() {
		sessions := consoleSessions(readmeSection("## Checking an echo client"))
		Expect(sessions).To(HaveLen(1))
		s := sessions[0]
		Expect(s.command).To(HavePrefix("echoconf check-client "))
		dir := GinkgoT().TempDir()
		buildClientAt("sends-nul", filepath.Join(dir, "bin", "c", "clients", "sends-nul"))
		got, code := runIn(dir, baseEnv(), time.Minute, "bash", "-c", s.command)
		Expect(code).To(Equal(s.code), got)
		Expect(sameButTimes(got)).To(Equal(sameButTimes(s.output)))
	})
})
