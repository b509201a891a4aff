package conformance_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/impl"
)

func TestMain(m *testing.M) {
	if code, ok := impl.RunChildIfRequested(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestConformance runs the one Ginkgo suite of package conformance.
func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Conformance Suite")
}
