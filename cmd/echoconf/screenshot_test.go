package main_test

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/internal/validate"
)

var _ = Describe("the HTML report of a real failure", Label("chromium"), func() {
	It("renders in chromium as a readable page (the README's screenshot, with make screenshots)", func() {
		dir := GinkgoT().TempDir()
		buildC("faulty/upcase.c", dir)
		page := filepath.Join(dir, "report.html")
		cmd := exec.Command(echoconfBin, "check", "--select", "basic,halfclose/small-pending", "--format", "html", "--output", page,
			"--exec", "./server {port}")
		cmd.Dir = dir
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(s).WithTimeout(90 * time.Second).Should(gexec.Exit(1))
		html, err := os.ReadFile(page)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(html)).To(ContainSubstring(`<mark class="first"`))
		// Open the first diagnosis, as a reader would.
		opened := strings.Replace(string(html), `<details class="diagnosis">`, `<details class="diagnosis" open>`, 1)
		shown := filepath.Join(dir, "shown.html")
		Expect(os.WriteFile(shown, []byte(opened), 0o644)).To(Succeed())
		shot := filepath.Join(dir, "failure-report.png")
		_, err = validate.RunChromium("--window-size=1100,1250", "--screenshot="+shot, "file://"+shown)
		if reason, ok := validate.Absent(err); ok {
			Skip(reason)
		}
		Expect(err).NotTo(HaveOccurred())
		data, err := os.ReadFile(shot)
		Expect(err).NotTo(HaveOccurred())
		img, err := png.Decode(bytes.NewReader(data))
		Expect(err).NotTo(HaveOccurred())
		colours := map[[3]uint32]bool{}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 7 {
			for x := b.Min.X; x < b.Max.X; x += 7 {
				r, g, bl, _ := img.At(x, y).RGBA()
				colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			}
		}
		Expect(len(colours)).To(BeNumerically(">", 20), "a rendered page, not a blank one")
		if out := os.Getenv("ECHOCONF_SCREENSHOTS"); out != "" {
			Expect(os.WriteFile(filepath.Join(out, "failure-report.png"), data, 0o644)).To(Succeed())
		}
	})
})
