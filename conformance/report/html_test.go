package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/validate"
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
    injected: q("b").length,
    subject: (document.getElementById("subject") || {innerText: ""}).innerText,
    headlineText: document.querySelector("#verdict .headline").innerText,
    firstMarks: Array.prototype.map.call(q("pre.hexdump mark.first"), function (m) { return m.textContent; }),
    diffMarks: Array.prototype.map.call(q("pre.hexdump mark.diff"), function (m) { return m.textContent; }),
    replays: Array.prototype.map.call(q("pre.replay"), function (m) { return m.textContent; }),
    buildOutput: (document.querySelector("pre.build-output") || {textContent: ""}).textContent,
    buildPreformatted: document.querySelector("pre.build-output") ? getComputedStyle(document.querySelector("pre.build-output")).whiteSpace : "",
    printHidden: -1
  };
  // Paper: apply the @media print rules on screen, then count the folded
  // blocks that still show nothing.
  var printCSS = "";
  Array.prototype.forEach.call(document.styleSheets, function (sheet) {
    Array.prototype.forEach.call(sheet.cssRules, function (rule) {
      if (rule.media && /print/.test(rule.media.mediaText)) {
        Array.prototype.forEach.call(rule.cssRules, function (r) { printCSS += r.cssText + "\n"; });
      }
    });
  });
  if (printCSS) {
    var st = document.createElement("style");
    st.textContent = printCSS;
    document.head.appendChild(st);
    out.printHidden = Array.prototype.filter.call(q("details pre"), function (p) {
      return !p.checkVisibility() || p.getBoundingClientRect().height < 2;
    }).length;
    out.printCSSLength = printCSS.length;
    st.remove();
  }
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`

type htmlProbeResult struct {
	Rows         int      `json:"rows"`
	FailRows     int      `json:"failRows"`
	Categories   int      `json:"categories"`
	Verdict      string   `json:"verdict"`
	Headline     string   `json:"headline"`
	Score        string   `json:"score"`
	Details      int      `json:"details"`
	OpenDetails  int      `json:"openDetails"`
	HiddenPre    int      `json:"hiddenPre"`
	BannerImage  string   `json:"bannerImage"`
	BannerHeight float64  `json:"bannerHeight"`
	FailBadge    string   `json:"failBadge"`
	Scripts      int      `json:"scripts"`
	Resources    int      `json:"resources"`
	Overflow     bool     `json:"overflow"`
	Subject      string   `json:"subject"`
	HeadlineText string   `json:"headlineText"`
	FirstMarks   []string `json:"firstMarks"`
	DiffMarks    []string `json:"diffMarks"`
	Replays      []string `json:"replays"`
	BuildOutput  string   `json:"buildOutput"`
	BuildPre     string   `json:"buildPreformatted"`
	PrintHidden  int      `json:"printHidden"`
	ServerShown  bool     `json:"serverShown"`
	Injected     int      `json:"injected"`
}

// runChromium runs headless chromium with args, or skips the spec when it
// is not installed (outside CI).
func runChromium(args ...string) []byte {
	GinkgoHelper()
	out, err := validate.RunChromium(args...)
	need(err)
	return out
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
	withRubric := func(r *engine.Report) []byte {
		GinkgoHelper()
		rb, err := report.DefaultRubric()
		Expect(err).NotTo(HaveOccurred())
		var buf bytes.Buffer
		Expect(write("html", &buf, r, report.Options{Rubric: rb})).To(Succeed())
		return buf.Bytes()
	}

	It("is one self-contained file: no scripts, no external assets", func() {
		var buf bytes.Buffer
		Expect(write("html", &buf, newFixtureReport(), report.Options{})).To(Succeed())
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
		Expect(got.PrintHidden).To(Equal(0), "on paper every folded diagnosis is shown")
		Expect(got.FirstMarks).To(Equal([]string{"01", ".", "01", "."}), "the byte at the failure's offset (17), in hex and as text, in both windows")
		Expect(got.DiffMarks).To(Equal([]string{"6f", "o", "4f", "O"}), "the bytes after it that differ")
		Expect(got.Replays).To(ContainElement("echoconf check --select basic/small-message --seed 42 --timeout-scale 2 --exec './server {port}'"))
	})

	It("heads a submission's page with its name and marks every differing byte after the first", func() {
		r := withUnjudged(newFixtureReport())
		f := r.Results[1].Failure()
		f.ExpectedWindow = []byte("abcdefghijklmnopqrstuvwxyz")
		f.ActualWindow = []byte("abcdefghijklmnopqRSTuvwxYz")
		rb, err := report.DefaultRubric()
		Expect(err).NotTo(HaveOccurred())
		var buf bytes.Buffer
		Expect(write("html", &buf, r, report.Options{Heading: "alice", Rubric: rb})).To(Succeed())
		got := renderInChromium(buf.Bytes())
		Expect(got.Subject).To(Equal("alice"))
		Expect(got.HeadlineText).To(Equal("The server does not conform to RFC 862"))
		Expect(got.FirstMarks).To(Equal([]string{"72", "r", "52", "R"}), "offset 17 differs first")
		Expect(got.DiffMarks).To(Equal([]string{"73", "74", "79", "s", "t", "y", "53", "54", "59", "S", "T", "Y"}),
			"the later differing bytes, and only those")
		Expect(got.PrintHidden).To(Equal(0))
	})

	It("says that a submission did not build, scores 0 of the rubric's total and shows the compiler's output", func() {
		rb, err := report.DefaultRubric()
		Expect(err).NotTo(HaveOccurred())
		r := &engine.Report{Target: "alice", Started: fixtureStart, Duration: time.Second,
			Results: []engine.Result{{Check: spec.Check{ID: "build/compile", Requirement: "It builds.", Level: spec.Must},
				Status: engine.StatusFail, Err: errors.New("server.c:3: error: expected ';'")}}}
		var buf bytes.Buffer
		Expect(write("html", &buf, r, report.Options{Heading: "alice", Rubric: rb,
			Build: &report.BuildFailure{Command: "make", Output: "server.c: In function 'main':\nserver.c:3: error: expected ';'\n    int x = 1\n            ^\n"}})).To(Succeed())
		got := renderInChromium(buf.Bytes())
		Expect(got.Verdict).To(Equal("FAIL"))
		Expect(got.Subject).To(Equal("alice"))
		Expect(got.HeadlineText).To(Equal("The submission did not build"))
		Expect(got.Score).To(Equal("0\n/ 100 points"), "0 of the rubric's maximum, not 0 / 0")
		Expect(got.BuildOutput).To(ContainSubstring("    int x = 1\n            ^"), "indentation kept")
		Expect(got.BuildPre).To(Equal("pre-wrap"))
		Expect(got.Rows).To(Equal(0), "no check ran")
	})

	It("renders a passing run with a green PASS banner", func() {
		got := renderInChromium(withRubric(fullCatalogueReport(false, nil)))
		Expect(got.Rows).To(Equal(len(spec.All())))
		Expect(got.Verdict).To(Equal("PASS"))
		Expect(got.Headline).To(Equal("The server conforms to RFC 862"))
		Expect(got.Score).To(Equal("100\n/ 100 points"))
		Expect(got.PrintHidden).To(Equal(0))
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
