package echoginkgo_test

import (
	"flag"
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// update rewrites the golden files instead of comparing with them:
// go test ./conformance/echoginkgo -args -update (or UPDATE_GOLDEN=1).
var update = flag.Bool("update", os.Getenv("UPDATE_GOLDEN") != "", "rewrite testdata/*.golden")

func TestEchoginkgo(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "echoginkgo Suite")
}
