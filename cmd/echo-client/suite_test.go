package main_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// clientBin is the echo-client binary built for this suite.
var clientBin string

func TestEchoClient(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "echo-client suite")
}

var _ = SynchronizedBeforeSuite(func() []byte {
	bin, err := gexec.Build("github.com/echoconf/echoconf/cmd/echo-client")
	Expect(err).NotTo(HaveOccurred())
	return []byte(bin)
}, func(bin []byte) {
	clientBin = string(bin)
})

var _ = SynchronizedAfterSuite(func() {}, gexec.CleanupBuildArtifacts)
