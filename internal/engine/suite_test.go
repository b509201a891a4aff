package engine_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/impl"
)

func TestMain(m *testing.M) {
	if code, ok := impl.RunChildIfRequested(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestEngine runs the one Ginkgo suite of package engine.
func TestEngine(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Engine Suite")
}

// testServerBin is the fault-injecting echo server of testdata/testserver,
// built once per suite.
var testServerBin string

var _ = SynchronizedBeforeSuite(func() []byte {
	bin, err := gexec.Build("github.com/echoconf/echoconf/internal/engine/testdata/testserver")
	Expect(err).NotTo(HaveOccurred())
	return []byte(bin)
}, func(bin []byte) {
	testServerBin = string(bin)
})

var _ = SynchronizedAfterSuite(func() {}, func() {
	gexec.CleanupBuildArtifacts()
})
