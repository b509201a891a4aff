package main_test

import (
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// clientBin and serverBin are the echo-client and echo-server binaries
// built for this suite.
var clientBin, serverBin string

func TestEchoClient(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "echo-client suite")
}

var _ = SynchronizedBeforeSuite(func() []byte {
	client, err := gexec.Build("github.com/echoconf/echoconf/cmd/echo-client")
	Expect(err).NotTo(HaveOccurred())
	server, err := gexec.Build("github.com/echoconf/echoconf/cmd/echo-server")
	Expect(err).NotTo(HaveOccurred())
	return []byte(client + "\n" + server)
}, func(bins []byte) {
	clientBin, serverBin, _ = strings.Cut(string(bins), "\n")
})

var _ = SynchronizedAfterSuite(func() {}, gexec.CleanupBuildArtifacts)
