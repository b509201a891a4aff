package gallery_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// TestGallery runs the package's specs: the manifest and build helpers, the
// C echo client, and the accuracy table (every gallery server against the
// whole catalogue), which -short skips.
func TestGallery(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Gallery Suite")
}
