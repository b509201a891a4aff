package main

import (
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
