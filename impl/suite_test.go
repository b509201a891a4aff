package impl_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/impl"
)

// TestMain lets the process model re-execute this test binary as a child.
func TestMain(m *testing.M) {
	if code, ok := impl.RunChildIfRequested(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func TestImpl(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "impl suite")
}
