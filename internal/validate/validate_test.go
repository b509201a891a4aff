package validate_test

import (
	"errors"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/validate"
)

var _ = Describe("the validators", func() {
	It("skips on a missing tool outside CI, and fails on it in CI", func() {
		missing := &validate.MissingError{Tool: "xmllint", Install: "apt-get install libxml2-utils"}
		GinkgoT().Setenv("CI", "")
		reason, ok := validate.Absent(missing)
		Expect(ok).To(BeTrue())
		Expect(reason).To(Equal("xmllint is not installed (apt-get install libxml2-utils); .ci/run installs it"))
		GinkgoT().Setenv("CI", "true")
		_, ok = validate.Absent(missing)
		Expect(ok).To(BeFalse(), "in CI a missing tool is a failure")
		_, ok = validate.Absent(errors.New("not valid"))
		Expect(ok).To(BeFalse(), "a validation error is never a reason to skip")
	})

	It("finds the schemas and the npm readers' directory from a package directory", func() {
		for _, name := range validate.JUnitSchemas {
			path, err := validate.Schema(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(path).To(BeAnExistingFile())
		}
		root, err := validate.Root()
		Expect(err).NotTo(HaveOccurred())
		Expect(filepath.Join(root, "testdata", "validators", "tap-parse.js")).To(BeAnExistingFile())
	})

	It("reports what xmllint rejects", func() {
		doc := filepath.Join(GinkgoT().TempDir(), "bad.xml")
		Expect(os.WriteFile(doc, []byte(`<testsuites><testcase/></testsuites>`), 0o644)).To(Succeed())
		err := validate.XMLLint("junit-10.xsd", doc)
		if reason, ok := validate.Absent(err); ok {
			Skip(reason)
		}
		Expect(err).To(MatchError(ContainSubstring("testcase")))
	})

	It("reads TAP with tap-parser, and a failing stream fails prove", func() {
		r, err := validate.TAPParser([]byte("TAP version 13\n1..2\nok 1 - a\nnot ok 2 - b\n"))
		if reason, ok := validate.Absent(err); ok {
			Skip(reason)
		}
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Count).To(Equal(2))
		Expect(r.Failures).To(HaveLen(1))
		Expect(r.Point("b").OK).To(BeFalse())
		out, err := validate.Prove([]byte("TAP version 13\n1..2\nok 1 - a\nnot ok 2 - b\n"))
		if reason, ok := validate.Absent(err); ok {
			Skip(reason)
		}
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("Result: FAIL"))
	})
})
