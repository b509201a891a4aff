package adversary_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

// TestAdversary runs the package's specs: every behaviour against Go
// clients, and the gallery of C clients (testdata/clients.json) against
// the behaviours that expose their faults.
func TestAdversary(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Adversary Suite")
}

// Every spec must leave no goroutine behind: Server.Close joins every
// connection's reader and writer.
var _ = BeforeEach(func() {
	ignore := goleak.IgnoreCurrent()
	DeferCleanup(func() {
		Expect(goleak.Find(ignore)).To(Succeed())
	})
})
