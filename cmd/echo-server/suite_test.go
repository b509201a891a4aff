package main_test

import (
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// serverBin and checkerBin are the echo-server and echoconf binaries built
// for this suite.
var serverBin, checkerBin string

func TestEchoServer(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "echo-server suite")
}

var _ = SynchronizedBeforeSuite(func() []byte {
	server, err := gexec.Build("github.com/echoconf/echoconf/cmd/echo-server")
	Expect(err).NotTo(HaveOccurred())
	checker, err := gexec.Build("github.com/echoconf/echoconf/cmd/echoconf")
	Expect(err).NotTo(HaveOccurred())
	return []byte(server + "\n" + checker)
}, func(bins []byte) {
	serverBin, checkerBin, _ = strings.Cut(string(bins), "\n")
})

var _ = SynchronizedAfterSuite(func() {}, gexec.CleanupBuildArtifacts)
