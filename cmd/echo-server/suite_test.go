package main_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// serverBin is the echo-server binary built for this suite.
var serverBin string

func TestEchoServer(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "echo-server suite")
}

var _ = SynchronizedBeforeSuite(func() []byte {
	bin, err := gexec.Build("github.com/echoconf/echoconf/cmd/echo-server")
	Expect(err).NotTo(HaveOccurred())
	return []byte(bin)
}, func(bin []byte) {
	serverBin = string(bin)
})

var _ = SynchronizedAfterSuite(func() {}, gexec.CleanupBuildArtifacts)
