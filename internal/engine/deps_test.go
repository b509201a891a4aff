package engine_test

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the commands' dependencies", func() {
	DescribeTable("link neither testing nor an adapter",
		func(pkg string) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "go", "list", "-deps", pkg)
			cmd.Dir = "../.."
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			out, err := cmd.Output()
			Expect(err).NotTo(HaveOccurred())
			deps := strings.Fields(string(out))
			Expect(deps).To(ContainElement("github.com/echoconf/echoconf/spec"), "the listing is real")
			for _, banned := range []string{"testing", "github.com/onsi/ginkgo/v2", "github.com/echoconf/echoconf/conformance"} {
				Expect(deps).NotTo(ContainElement(banned), pkg+" links "+banned)
			}
		},
		Entry("echoconf", "./cmd/echoconf"),
		Entry("the engine", "./internal/engine"),
	)
})
