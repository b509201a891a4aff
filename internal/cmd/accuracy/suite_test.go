package main

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// TestAccuracy runs the specs of the accuracy command: flags, the table,
// the summary line and the exit codes.
func TestAccuracy(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Accuracy Suite")
}

// TestMain lets the test binary serve as a CPU-bound neighbour, as the
// accuracy binary does when -hogs re-executes it.
func TestMain(m *testing.M) {
	if os.Getenv(hogEnv) == "1" {
		spin()
	}
	os.Exit(m.Run())
}
