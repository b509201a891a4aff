package stdio_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestStdio(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "stdio Suite")
}
