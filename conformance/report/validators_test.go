package report_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/validate"
)

// need skips the spec when err says a third-party tool is missing (outside
// CI, where it fails instead); any other error fails the spec.
func need(err error) {
	GinkgoHelper()
	if reason, ok := validate.Absent(err); ok {
		Skip(reason)
	}
	Expect(err).NotTo(HaveOccurred())
}

// writeTemp writes data to a file named name in a fresh temporary
// directory and returns its path.
func writeTemp(name string, data []byte) string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), name)
	Expect(os.WriteFile(path, data, 0o644)).To(Succeed())
	return path
}

// expectValidJUnit validates doc with xmllint against every JUnit schema.
func expectValidJUnit(doc []byte) {
	GinkgoHelper()
	path := writeTemp("junit.xml", doc)
	for _, schema := range validate.JUnitSchemas {
		need(validate.XMLLint(schema, path))
	}
}

// junitTotals reads doc with test-results-parser.
func junitTotals(doc []byte) *validate.JUnitTotals {
	GinkgoHelper()
	t, err := validate.TestResultsParser(writeTemp("junit.xml", doc))
	need(err)
	return t
}

// parseTAP reads doc with node-tap's tap-parser, strict.
func parseTAP(doc []byte) *validate.TAPResult {
	GinkgoHelper()
	r, err := validate.TAPParser(doc)
	need(err)
	return r
}
