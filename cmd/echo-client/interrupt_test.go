package main_test

import (
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/impl/echotest"
)

// interruptBound is how soon after SIGINT the client must have exited: far
// below the 10s -timeout, so only an immediate stop passes.
const interruptBound = 3 * time.Second

var _ = Describe("echo-client on SIGINT", func() {
	DescribeTable("stops at once with exit code 130 and one line",
		func(mode string, sendFirst bool) {
			srv := echotest.NewServer()
			DeferCleanup(srv.Close)
			r, w, err := os.Pipe()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(r.Close)
			DeferCleanup(w.Close) // stdin stays open: the client waits for more
			s := runClient(r, "-mode", mode, srv.Addr)
			if sendFirst {
				_, err = w.Write([]byte("ping\n"))
				Expect(err).NotTo(HaveOccurred())
				Eventually(s.Out, ioTimeout).Should(gbytes.Say("ping\n"))
			} else {
				Eventually(srv.ActiveConns, ioTimeout).Should(Equal(1), "connected")
			}
			s.Interrupt()
			Eventually(s, interruptBound).Should(gexec.Exit(130))
			Expect(string(s.Err.Contents())).To(Equal("echo-client: interrupted\n"))
		},
		Entry("interactive, waiting for a line", "interactive", false),
		Entry("interactive, after an exchange", "interactive", true),
		Entry("pipe, waiting for input", "pipe", false),
		Entry("pipe, after an exchange", "pipe", true),
	)
})
