package reap_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestReap(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "reap Suite")
}
