package stdio_test

import (
	"errors"
	"os"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/stdio"
)

var _ = Describe("Watch", func() {
	It("stops once, with a *Broken naming the stream, when a write to a closed pipe fails", func() {
		r, w, err := os.Pipe()
		Expect(err).NotTo(HaveOccurred())
		defer w.Close()
		var causes []error
		out := stdio.Watch(w, "stdout", func(err error) { causes = append(causes, err) })
		_, err = out.Write([]byte("first\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(causes).To(BeEmpty())

		Expect(r.Close()).To(Succeed())
		for range 3 {
			_, err = out.Write([]byte("more\n"))
			Expect(errors.Is(err, syscall.EPIPE)).To(BeTrue(), "EPIPE, and the test binary is still alive: %v", err)
		}
		Expect(causes).To(HaveLen(1))
		Expect(stdio.IsBroken(causes[0])).To(BeTrue())
		Expect(causes[0]).To(MatchError(ContainSubstring("stdout was closed or failed")))
		Expect(errors.Is(causes[0], syscall.EPIPE)).To(BeTrue())
		f, ok := stdio.File(out)
		Expect(ok).To(BeTrue())
		Expect(f).To(BeIdenticalTo(w))
	})
})

var _ = Describe("Detach", func() {
	It("returns close-on-exec duplicates of fd 1 and 2", func() {
		out, errOut := stdio.Detach()
		defer out.Close()
		defer errOut.Close()
		for _, f := range []*os.File{out, errOut} {
			Expect(int(f.Fd())).To(BeNumerically(">", 2))
			flags, err := fcntlGetfd(f.Fd())
			Expect(err).NotTo(HaveOccurred())
			Expect(flags & syscall.FD_CLOEXEC).NotTo(BeZero())
		}
	})
})

func fcntlGetfd(fd uintptr) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFD, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
