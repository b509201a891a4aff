package echotest_test

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

func TestEchotest(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "echotest suite")
}
