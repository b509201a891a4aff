package process

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("parseCommand", func() {
	DescribeTable("splits commands into argv",
		func(line string, want []string, wantErr string) {
			argv, err := commandArgv(line, "7007")
			if wantErr != "" {
				Expect(err).To(MatchError(ContainSubstring(wantErr)))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(argv).To(Equal(want))
		},
		Entry("plain words", "./server --port {port}", []string{"./server", "--port", "7007"}, ""),
		Entry("quotes", `python3 -c 'print("x")' "a b" {port}`, []string{"python3", "-c", `print("x")`, "a b", "7007"}, ""),
		Entry("escapes", `./my\ server -p={port}`, []string{"./my server", "-p=7007"}, ""),
		Entry("a pipe runs in sh", "./server {port} | tee log", []string{"/bin/sh", "-c", "./server 7007 | tee log"}, ""),
		Entry("a list runs in sh", "cd dir && ./server {port}", []string{"/bin/sh", "-c", "cd dir && ./server 7007"}, ""),
		Entry("a redirection runs in sh with exec", "./server {port} 2>&1", []string{"/bin/sh", "-c", "./server 7007 2>&1"}, ""),
		Entry("an expansion runs in sh with exec", "$HOME/server {port}", []string{"/bin/sh", "-c", "exec $HOME/server 7007"}, ""),
		Entry("an assignment runs in sh with exec", "PORT={port} ./server", []string{"/bin/sh", "-c", "exec PORT=7007 ./server"}, ""),
		Entry("unterminated quote", `./server "{port}`, nil, "unterminated double quote"),
		Entry("trailing backslash", `./server {port}\`, nil, "trailing backslash"),
	)
})
