package grade_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// TestGrade runs the grade package's Ginkgo suite.
func TestGrade(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Grade Suite")
}
