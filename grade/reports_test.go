package grade_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/grade"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/validate"
	"github.com/echoconf/echoconf/spec"
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

// classProbe runs inside a copy of index.html and records what chromium
// laid out: the chart's bars and where they link, the histogram, and
// whether anything was fetched.
const classProbe = `<script>
(function () {
  var q = function (s) { return document.querySelectorAll(s); };
  var bars = Array.prototype.slice.call(q("#checks-chart a.bar"));
  var out = {
    categories: Array.prototype.map.call(q("#checks-chart .category"), function (c) { return c.innerText; }),
    bars: bars.length,
    barWidths: bars.map(function (b) { return b.getBoundingClientRect().width; }),
    brokenLinks: bars.filter(function (b) {
      var id = b.getAttribute("href").slice(1);
      return b.getAttribute("aria-disabled") !== "true" && !document.getElementById(id);
    }).length,
    failSegments: q("#checks-chart a.bar .seg-fail").length,
    histBars: q("#histogram .hist-bar").length,
    histTotal: Array.prototype.reduce.call(q("#histogram .hist-bar .n"), function (s, n) { return s + parseInt(n.innerText, 10); }, 0),
    tallestBar: Math.max.apply(null, Array.prototype.map.call(q("#histogram .hist-bar .b"), function (b) { return b.getBoundingClientRect().height; })),
    rows: q("tr.submission").length,
    resources: performance.getEntriesByType("resource").length,
    externalRefs: Array.prototype.filter.call(q("[href],[src]"), function (e) {
      return /^[a-z]+:/i.test(e.getAttribute("href") || e.getAttribute("src") || "");
    }).length,
    overflow: document.documentElement.scrollWidth > window.innerWidth
  };
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`

type classProbeResult struct {
	Categories   []string  `json:"categories"`
	Bars         int       `json:"bars"`
	BarWidths    []float64 `json:"barWidths"`
	BrokenLinks  int       `json:"brokenLinks"`
	FailSegments int       `json:"failSegments"`
	HistBars     int       `json:"histBars"`
	HistTotal    int       `json:"histTotal"`
	TallestBar   float64   `json:"tallestBar"`
	Rows         int       `json:"rows"`
	Resources    int       `json:"resources"`
	ExternalRefs int       `json:"externalRefs"`
	Overflow     bool      `json:"overflow"`
}

// probeClassPage renders a copy of index.html with the probe in chromium.
func probeClassPage(index string) classProbeResult {
	GinkgoHelper()
	page, err := os.ReadFile(index)
	Expect(err).NotTo(HaveOccurred())
	probed := filepath.Join(filepath.Dir(index), "probed.html")
	Expect(os.WriteFile(probed, bytes.Replace(page, []byte("</body>"), []byte(classProbe+"</body>"), 1), 0o644)).To(Succeed())
	dom, err := validate.RunChromium("--window-size=1280,2000", "--dump-dom", "file://"+probed)
	need(err)
	m := regexp.MustCompile(`(?s)<pre id="probe">(.*?)</pre>`).FindSubmatch(dom)
	Expect(m).NotTo(BeNil(), "the probe did not run")
	raw := strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(string(m[1]))
	var res classProbeResult
	Expect(json.Unmarshal([]byte(raw), &res)).To(Succeed())
	return res
}

// screenshot takes a PNG of page at the given size with chromium, checks
// that it shows a laid-out page, and copies it to $ECHOCONF_SCREENSHOTS/name
// when that is set (make screenshots).
func screenshot(page, name string, width, height int) {
	GinkgoHelper()
	shot := filepath.Join(GinkgoT().TempDir(), name)
	_, err := validate.RunChromium("--window-size="+itoa(width)+","+itoa(height), "--screenshot="+shot, "file://"+page)
	need(err)
	f, err := os.Open(shot)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	img, err := png.Decode(f)
	Expect(err).NotTo(HaveOccurred())
	colours := map[[3]uint32]bool{}
	for y := 0; y < height; y += 7 {
		for x := 0; x < width; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	Expect(len(colours)).To(BeNumerically(">", 20), "a rendered page, not a blank one")
	if dir := os.Getenv("ECHOCONF_SCREENSHOTS"); dir != "" {
		data, err := os.ReadFile(shot)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(dir, name), data, 0o644)).To(Succeed())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// classResult makes a graded submission whose report has the given
// statuses (every other check of the catalogue passes).
func classResult(name string, score float64, statuses map[string]engine.Status) grade.Result {
	rep := &engine.Report{Target: "./server {port}", Started: time.Now(), Seed: 1, TimeoutScale: 1, Exec: true}
	var failed []string
	for _, c := range spec.All() {
		res := engine.Result{Check: c, Status: engine.StatusPass, Runs: 1}
		if s, ok := statuses[c.ID]; ok {
			res.Status = s
			if s == engine.StatusFail {
				failed = append(failed, c.ID)
				res.Err = &spec.Failure{Kind: spec.KindTimeout, Offset: -1}
			}
			if s == engine.StatusSkip {
				res.Err = &spec.Skipped{Reason: engine.ReasonNotSelected}
				res.NotSelected = true
			}
		}
		rep.Results = append(rep.Results, res)
	}
	v := grade.VerdictPass
	if len(failed) > 0 {
		v = grade.VerdictFail
	}
	return grade.Result{Submission: name, Score: score, MaxScore: 100, Verdict: v, FailedChecks: failed, BuildOK: true, Report: rep}
}

var _ = Describe("the class figures", func() {
	results := func() []grade.Result {
		return []grade.Result{
			classResult("ann", 100, nil),
			classResult("bob", 80, map[string]engine.Status{"concurrency/idle-client": engine.StatusFail,
				"robustness/no-zombies": engine.StatusWarn}),
			classResult("cy", 55, map[string]engine.Status{"concurrency/idle-client": engine.StatusFail,
				"halfclose/no-data": engine.StatusFail, "robustness/fd-stable": engine.StatusUnjudged,
				"large/64mib": engine.StatusSkip}),
			{Submission: "dee", MaxScore: 100, Verdict: grade.VerdictBuildFailed, FailedChecks: []string{"build"}},
		}
	}

	It("tallies every check across the class, each submission counted once", func() {
		tallies := grade.TallyChecks(results())
		Expect(tallies).To(HaveLen(len(spec.All())))
		byID := map[string]grade.CheckTally{}
		for _, t := range tallies {
			Expect(t.Total()).To(Equal(4), t.ID)
			byID[t.ID] = t
		}
		idle := byID["concurrency/idle-client"]
		Expect(idle.Passed).To(Equal(1))
		Expect(idle.Failed).To(Equal(2))
		Expect(idle.NotRun).To(Equal(1), "dee did not build")
		Expect(idle.FailedBy).To(Equal([]string{"bob", "cy"}))
		Expect(idle.PassRate()).To(Equal(0.25))
		Expect(byID["robustness/no-zombies"].WarnedBy).To(Equal([]string{"bob"}))
		Expect(byID["robustness/fd-stable"].Unjudged).To(Equal(1))
		Expect(byID["large/64mib"].NotRun).To(Equal(2), "not selected in cy's run, and dee did not build")
		Expect(tallies[0].ID).To(Equal(spec.All()[0].ID), "catalogue order")
	})

	It("writes checks.csv", func() {
		var buf bytes.Buffer
		Expect(grade.WriteChecksCSV(&buf, results())).To(Succeed())
		rows, err := csv.NewReader(&buf).ReadAll()
		Expect(err).NotTo(HaveOccurred())
		Expect(rows[0]).To(Equal(grade.ChecksHeader))
		Expect(rows).To(HaveLen(1 + len(spec.All())))
		for _, row := range rows[1:] {
			if row[0] == "concurrency/idle-client" {
				Expect(row).To(Equal([]string{"concurrency/idle-client", "concurrency", "MUST", "1", "2", "0", "0", "0", "0", "1", "0.250", "bob;cy"}))
			}
		}
	})

	It("sorts the scores into ten bars from 0 to the maximum", func() {
		bins := grade.ScoreHistogram(results())
		Expect(bins).To(HaveLen(10))
		Expect(bins[0].Submissions).To(Equal([]string{"dee"}))
		Expect(bins[5].Submissions).To(Equal([]string{"cy"}))
		Expect(bins[8].Submissions).To(Equal([]string{"bob"}))
		Expect(bins[9].Submissions).To(Equal([]string{"ann"}), "a full score is in the last bar")
		Expect(bins[9].High).To(Equal(100.0))
	})

	It("draws the class page in chromium: a bar per check linking to who missed it, and the histogram", func() {
		dir := GinkgoT().TempDir()
		index := filepath.Join(dir, grade.FileIndex)
		var buf bytes.Buffer
		Expect(grade.WriteIndexHTML(&buf, results())).To(Succeed())
		Expect(os.WriteFile(index, buf.Bytes(), 0o644)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring(`href="bob/report.html#check-concurrency-idle-client"`))
		got := probeClassPage(index)
		Expect(got.Categories).To(Equal([]string{"BASIC", "PARTIAL", "LARGE", "HALFCLOSE", "CONCURRENCY", "ROBUSTNESS"}))
		Expect(got.Bars).To(Equal(len(spec.All())))
		Expect(got.BrokenLinks).To(BeZero(), "every bar of a missed check links to its list")
		Expect(got.FailSegments).To(Equal(2), "idle-client and no-data")
		Expect(got.HistBars).To(Equal(10))
		Expect(got.HistTotal).To(Equal(4))
		Expect(got.TallestBar).To(BeNumerically(">", 50))
		Expect(got.Rows).To(Equal(4))
		Expect(got.Resources).To(BeZero(), "self-contained: nothing is fetched")
		Expect(got.ExternalRefs).To(BeZero(), "no external URL")
		Expect(got.Overflow).To(BeFalse())
	})
})
