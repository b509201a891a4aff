package spec_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestSpec(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "spec suite")
}

// Every spec must leave no goroutine behind: the checks join their writers
// and watchers, and the fake servers join their handlers on Close.
var _ = BeforeEach(func() {
	ignore := goleak.IgnoreCurrent()
	DeferCleanup(func() {
		Expect(goleak.Find(ignore)).To(Succeed())
	})
})
