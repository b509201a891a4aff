package gallery_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/gallery"
)

var _ = Describe("Build", func() {
	// build compiles one C file with body into a fresh directory.
	build := func(body string) (string, error) {
		GinkgoHelper()
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "prog.c"), []byte(body), 0o644)).To(Succeed())
		m := &gallery.Manifest{Dir: dir}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return m.Build(ctx, gallery.Program{Name: "prog", Sources: []string{"prog.c"}, Run: "{bin}"}, dir)
	}

	It("builds a clean program into the directory", func() {
		bin, err := build("int main(void) { return 0; }\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(bin).To(BeAnExistingFile())
		Expect(filepath.Base(bin)).To(Equal("prog"))
	})

	It("fails on a warning, quoting the compiler", func() {
		_, err := build("int main(int argc, char **argv) { int unused; return 0; }\n")
		Expect(err).To(MatchError(And(ContainSubstring("no warnings"), ContainSubstring("unused"))))
	})

	It("fails on an error, quoting the compiler", func() {
		_, err := build("int main(void) { return }\n")
		Expect(err).To(MatchError(ContainSubstring("build prog")))
	})

	It("passes the fixed flags, then the entry's own", func() {
		m := &gallery.Manifest{Dir: "/td"}
		args := m.BuildArgs(gallery.Program{Sources: []string{"c/a.c"}, CFlags: []string{"-pthread"}, LDFlags: []string{"-lm"}}, "/out/a")
		Expect(args).To(Equal([]string{"-Wall", "-Wextra", "-O2", "-pthread", "-o", "/out/a", "/td/c/a.c", "-lm"}))
	})
})
