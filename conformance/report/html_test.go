package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/spec"
)

// htmlProbe runs inside the rendered page (a test-only copy) and records
// what the browser laid out: rows, the banner, whether the folded
// diagnostics take up no space, and whether anything was fetched.
const htmlProbe = `<script>
(function () {
  var q = function (s) { return document.querySelectorAll(s); };
  var details = Array.prototype.slice.call(q("details"));
  var hiddenPre = details.filter(function (d) {
    var pre = d.querySelector("pre");
    var summary = d.querySelector("summary");
    var extra = d.getBoundingClientRect().height - summary.getBoundingClientRect().height;
    return !d.open && pre && !pre.checkVisibility() && extra < 2;
  }).length;
  var banner = document.getElementById("verdict");
  var out = {
    rows: q("tr.check").length,
    failRows: q("tr.check.status-fail").length,
    categories: q("tbody.category").length,
    verdict: document.querySelector("#verdict .verdict-word").innerText,
    headline: document.querySelector("#verdict h1").innerText,
    score: (document.getElementById("score") || {innerText: ""}).innerText,
    details: details.length,
    openDetails: details.filter(function (d) { return d.open; }).length,
    hiddenPre: hiddenPre,
    bannerImage: getComputedStyle(banner).backgroundImage,
    bannerHeight: banner.getBoundingClientRect().height,
    failBadge: getComputedStyle(document.querySelector(".badge-fail") || banner).backgroundColor,
    scripts: q("script").length,
    resources: performance.getEntriesByType("resource").length,
    overflow: document.documentElement.scrollWidth > window.innerWidth,
    serverShown: !!document.getElementById("server"),
    injected: q("b").length
  };
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`

type htmlProbeResult struct {
	Rows         int     `json:"rows"`
	FailRows     int     `json:"failRows"`
	Categories   int     `json:"categories"`
	Verdict      string  `json:"verdict"`
	Headline     string  `json:"headline"`
	Score        string  `json:"score"`
	Details      int     `json:"details"`
	OpenDetails  int     `json:"openDetails"`
	HiddenPre    int     `json:"hiddenPre"`
	BannerImage  string  `json:"bannerImage"`
	BannerHeight float64 `json:"bannerHeight"`
	FailBadge    string  `json:"failBadge"`
	Scripts      int     `json:"scripts"`
	Resources    int     `json:"resources"`
	Overflow     bool    `json:"overflow"`
	ServerShown  bool    `json:"serverShown"`
	Injected     int     `json:"injected"`
}

// chromiumPath finds Debian's chromium, or skips the spec with the reason.
func chromiumPath() string {
	GinkgoHelper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Skip("chromium is not installed (CI installs it: apt-get install chromium); the HTML report cannot be rendered")
	return ""
}

// runChromium runs headless chromium with args in its own process group,
// bounded to a minute, and returns its stdout.
func runChromium(args ...string) []byte {
	GinkgoHelper()
	bin := chromiumPath()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir=" + GinkgoT().TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// chromium leaves helper processes behind when it exits; end the group.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	Expect(err).NotTo(HaveOccurred(), "chromium failed: %s", stderr.String())
	return stdout.Bytes()
}

// renderInChromium writes page with the probe to a file, lets chromium
// load and lay it out, and returns what the probe saw.
func renderInChromium(page []byte) htmlProbeResult {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	path := filepath.Join(dir, "report.html")
	probed := bytes.Replace(page, []byte("</body>"), []byte(htmlProbe+"</body>"), 1)
	Expect(os.WriteFile(path, probed, 0o644)).To(Succeed())
	dom := runChromium("--window-size=1280,2000", "--dump-dom", "file://"+path)
	m := regexp.MustCompile(`(?s)<pre id="probe">(.*?)</pre>`).FindSubmatch(dom)
	Expect(m).NotTo(BeNil(), "the probe did not run; DOM:\n%s", dom)
	raw := strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(string(m[1]))
	var res htmlProbeResult
	Expect(json.Unmarshal([]byte(raw), &res)).To(Succeed())
	return res
}

var _ = Describe("HTML", Label("chromium"), func() {
	withRubric := func(r *conformance.Report) []byte {
		GinkgoHelper()
		rb, err := report.DefaultRubric()
		Expect(err).NotTo(HaveOccurred())
		var buf bytes.Buffer
		Expect(report.HTMLWriter(report.HTMLOptions{Rubric: rb})(&buf, r)).To(Succeed())
		return buf.Bytes()
	}

	It("is one self-contained file: no scripts, no external assets", func() {
		var buf bytes.Buffer
		Expect(report.HTML(&buf, newFixtureReport())).To(Succeed())
		page := buf.String()
		Expect(page).To(HavePrefix("<!DOCTYPE html>"))
		Expect(page).NotTo(ContainSubstring("<script"))
		Expect(page).NotTo(MatchRegexp(`(?i)\s(src|href)=`))
		Expect(page).NotTo(ContainSubstring("@import"))
		Expect(page).NotTo(ContainSubstring("url("))
		Expect(page).To(ContainSubstring("&lt;script&gt;alert(1)&lt;/script&gt;"), "text is escaped")
		Expect(page).NotTo(ContainSubstring("<b>bold</b>"), "server output is escaped")
	})

	It("renders in chromium with the verdict, a row per check and folded diagnostics", func() {
		got := renderInChromium(withRubric(newFixtureReport()))
		Expect(got.Rows).To(Equal(7))
		Expect(got.FailRows).To(Equal(3))
		Expect(got.Categories).To(Equal(5))
		Expect(got.Verdict).To(Equal("FAIL"))
		Expect(got.Headline).To(Equal("The server does not conform to RFC 862"))
		Expect(got.Score).To(Equal("5\n/ 26 points"), "only the fixture's checks are at stake: 4 (no-greeting) + 1 (the warned no-zombies)")
		Expect(got.Details).To(Equal(7), "6 folded diagnostics (fail, warn, skip, error) and the server output")
		Expect(got.OpenDetails).To(Equal(0), "diagnostics are folded by default")
		Expect(got.HiddenPre).To(Equal(7), "folded diagnostics take no space on the page")
		Expect(got.BannerImage).To(ContainSubstring("linear-gradient"), "the inline CSS applies")
		Expect(got.BannerImage).To(ContainSubstring("rgb(207, 34, 46)"), "a failing banner is red")
		Expect(got.BannerHeight).To(BeNumerically(">", 40))
		Expect(got.FailBadge).To(Equal("rgb(207, 34, 46)"))
		Expect(got.Scripts).To(Equal(1), "only the test's probe")
		Expect(got.Resources).To(Equal(0), "nothing is fetched")
		Expect(got.Overflow).To(BeFalse(), "no horizontal scrolling at 1280px")
		Expect(got.ServerShown).To(BeTrue())
		Expect(got.Injected).To(Equal(0), "markup in the server output is not rendered")
	})

	It("renders a passing run with a green PASS banner", func() {
		got := renderInChromium(withRubric(fullCatalogueReport(false, nil)))
		Expect(got.Rows).To(Equal(len(spec.All())))
		Expect(got.Verdict).To(Equal("PASS"))
		Expect(got.Headline).To(Equal("The server conforms to RFC 862"))
		Expect(got.Score).To(Equal("100\n/ 100 points"))
		Expect(got.BannerImage).To(ContainSubstring("rgb(26, 127, 55)"))
		Expect(got.Details).To(Equal(0))
		Expect(got.ServerShown).To(BeFalse())
	})

	It("matches the golden file", func() {
		expectGolden("report.html", withRubric(newFixtureReport()))
	})

	It("takes a screenshot that shows a laid-out page", func() {
		dir := GinkgoT().TempDir()
		page := filepath.Join(dir, "report.html")
		Expect(os.WriteFile(page, withRubric(newFixtureReport()), 0o644)).To(Succeed())
		shot := filepath.Join(dir, "report.png")
		runChromium("--window-size=1280,1400", "--screenshot="+shot, "file://"+page)
		f, err := os.Open(shot)
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		img, err := png.Decode(f)
		Expect(err).NotTo(HaveOccurred())
		Expect(img.Bounds().Size()).To(Equal(image.Pt(1280, 1400)))
		colours := map[[3]uint32]bool{}
		for y := 0; y < 1400; y += 7 {
			for x := 0; x < 1280; x += 7 {
				r, g, b, _ := img.At(x, y).RGBA()
				colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
			}
		}
		Expect(len(colours)).To(BeNumerically(">", 20), "a rendered report, not a blank page")
		if out := os.Getenv("ECHOCONF_HTML_SCREENSHOT"); out != "" {
			data, err := os.ReadFile(shot)
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(out, data, 0o644)).To(Succeed())
		}
	})
})
