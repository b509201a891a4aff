package main_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// TestEchoconf runs the one Ginkgo suite of the echoconf command; the
// specs run the built binary.
func TestEchoconf(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "echoconf CLI Suite")
}

var echoconfBin string

var _ = SynchronizedBeforeSuite(func() []byte {
	bin, err := gexec.Build("github.com/echoconf/echoconf/cmd/echoconf")
	Expect(err).NotTo(HaveOccurred())
	return []byte(bin)
}, func(bin []byte) {
	echoconfBin = string(bin)
})

var _ = SynchronizedAfterSuite(func() {}, func() {
	gexec.CleanupBuildArtifacts()
})
