package gallery_test

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/gallery"
	"github.com/echoconf/echoconf/spec"
)

// catalogueIDs lists the IDs of spec.All, in catalogue order.
func catalogueIDs() []string {
	var ids []string
	for _, c := range spec.All() {
		ids = append(ids, c.ID)
	}
	return ids
}

// writeManifest writes body as a manifest in a fresh directory with one
// empty C source, a.c, and returns the manifest's path.
func writeManifest(body string) string {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	Expect(os.WriteFile(filepath.Join(dir, "a.c"), []byte("int main(void) { return 0; }\n"), 0o644)).To(Succeed())
	file := filepath.Join(dir, gallery.ManifestFile)
	Expect(os.WriteFile(file, []byte(body), 0o644)).To(Succeed())
	return file
}

var _ = Describe("the manifest", func() {
	It("loads, and names only checks of the catalogue", func() {
		m, err := gallery.Load()
		Expect(err).NotTo(HaveOccurred())
		Expect(m.ValidateIDs(gallery.AllCheckIDs())).To(Succeed())
		Expect(m.ServersOf(gallery.KindCorrect)).To(HaveLen(7))
		Expect(len(m.ServersOf(gallery.KindFaulty))).To(BeNumerically(">=", 20))
		Expect(m.ServersOf(gallery.KindMisbehaving)).NotTo(BeEmpty())
		_, ok := m.Client("echo-client")
		Expect(ok).To(BeTrue())
	})

	It("matches each faulty file's header: the header names a check that catches the fault", func() {
		m, err := gallery.Load()
		Expect(err).NotTo(HaveOccurred())
		for _, p := range append(m.ServersOf(gallery.KindFaulty), m.ServersOf(gallery.KindMisbehaving)...) {
			src, err := os.ReadFile(filepath.Join(m.Dir, p.Sources[0]))
			Expect(err).NotTo(HaveOccurred())
			header, _, found := strings.Cut(string(src), "*/")
			Expect(found).To(BeTrue(), "%s has no comment block at the top", p.Name)
			Expect(strings.ToLower(header)).To(ContainSubstring(string(p.Kind)), "%s's header should say it is %s", p.Name, p.Kind)
			named := append(append(append(append([]string(nil), p.Expect.Fail...), p.Expect.Warn...), p.Expect.Unjudged...), p.Expect.CaughtBy...)
			mentioned := idsIn(header)
			Expect(mentioned).NotTo(BeEmpty(), "%s's header names no check", p.Name)
			Expect(named).To(ContainElement(BeElementOf(mentioned)),
				"%s's header names none of the checks its manifest entry expects to catch it", p.Name)
		}
	})

	DescribeTable("rejects an inconsistent manifest",
		func(body, wantErr string) {
			_, err := gallery.LoadFile(writeManifest(body))
			Expect(err).To(MatchError(ContainSubstring(wantErr)))
		},
		Entry("a duplicate name", `{"servers": [
			{"name": "a", "kind": "correct", "sources": ["a.c"], "run": "{bin} {port}", "expect": {"conformant": true}},
			{"name": "a", "kind": "correct", "sources": ["a.c"], "run": "{bin} {port}", "expect": {"conformant": true}}]}`,
			"duplicate name"),
		Entry("a correct server expected to fail", `{"servers": [
			{"name": "a", "kind": "correct", "sources": ["a.c"], "run": "{bin} {port}", "expect": {"fail": ["basic/small-message"]}}]}`,
			"a correct server must expect"),
		Entry("a faulty server that names no check", `{"servers": [
			{"name": "a", "kind": "faulty", "fault": "x", "sources": ["a.c"], "run": "{bin} {port}", "expect": {"may_fail": ["*/*"]}}]}`,
			"must name the checks"),
		Entry("a faulty server without a fault", `{"servers": [
			{"name": "a", "kind": "faulty", "sources": ["a.c"], "run": "{bin} {port}", "expect": {"fail": ["basic/small-message"]}}]}`,
			"must describe its fault"),
		Entry("an unknown kind", `{"servers": [
			{"name": "a", "kind": "broken", "sources": ["a.c"], "run": "{bin} {port}", "expect": {"conformant": true}}]}`,
			"is not correct, faulty or misbehaving"),
		Entry("a run command without {port}", `{"servers": [
			{"name": "a", "kind": "correct", "sources": ["a.c"], "run": "{bin} 7", "expect": {"conformant": true}}]}`,
			"has no {port}"),
		Entry("a missing source", `{"servers": [
			{"name": "a", "kind": "correct", "sources": ["b.c"], "run": "{bin} {port}", "expect": {"conformant": true}}]}`,
			"b.c"),
		Entry("a source outside testdata", `{"servers": [
			{"name": "a", "kind": "correct", "sources": ["../a.c"], "run": "{bin} {port}", "expect": {"conformant": true}}]}`,
			"must be inside testdata"),
		Entry("a bad may_fail pattern", `{"servers": [
			{"name": "a", "kind": "faulty", "fault": "x", "sources": ["a.c"], "run": "{bin} {port}", "expect": {"fail": ["basic/small-message"], "may_fail": ["["]}}]}`,
			"may_fail pattern"),
		Entry("an unknown field", `{"servers": [
			{"name": "a", "kind": "correct", "sources": ["a.c"], "run": "{bin} {port}", "expect": {"conformant": true}, "flags": []}]}`,
			"unknown field"),
	)

	It("rejects check IDs that are not in the catalogue", func() {
		m, err := gallery.LoadFile(writeManifest(`{"servers": [
			{"name": "a", "kind": "faulty", "fault": "x", "sources": ["a.c"], "run": "{bin} {port}",
			 "expect": {"fail": ["basic/small-mesage"], "warn": ["robustness/no-zombies"], "caught_by_any": ["large/2mib"]}}]}`))
		Expect(err).NotTo(HaveOccurred())
		err = m.ValidateIDs(catalogueIDs())
		Expect(err).To(MatchError(ContainSubstring(`unknown check "basic/small-mesage"`)))
		Expect(err).To(MatchError(ContainSubstring(`unknown check "large/2mib"`)))
	})

	It("quotes the binary in the run command and leaves {port} to the runner", func() {
		p := gallery.Program{Run: "{bin} {port}"}
		Expect(p.Command("/tmp/gallery/echo-server")).To(Equal("/tmp/gallery/echo-server {port}"))
		Expect(p.Command("/tmp/my dir/it's")).To(Equal(`'/tmp/my dir/it'\''s' {port}`))
		t := p.Target("/bin/srv")
		Expect(t.Addr).To(BeEmpty())
		Expect(t.Exec.Command).To(Equal("/bin/srv {port}"))
	})
})

// idsIn returns the check IDs of the catalogue that text mentions.
func idsIn(text string) []string {
	var ids []string
	for _, id := range gallery.AllCheckIDs() {
		if strings.Contains(text, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

var _ = Describe("Evaluate", func() {
	ids := []string{"basic/small-message", "large/1mib", "large/16mib", "robustness/no-zombies"}
	report := func(statuses ...engine.Status) *engine.Report {
		r := &engine.Report{Started: time.Now()}
		for i, s := range statuses {
			var err error
			if s != engine.StatusPass {
				err = &spec.Failure{Kind: spec.KindTimeout, Offset: -1}
			}
			r.Results = append(r.Results, engine.Result{Check: spec.Check{ID: ids[i]}, Status: s, Err: err})
		}
		return r
	}
	pass, fail, warn := engine.StatusPass, engine.StatusFail, engine.StatusWarn

	DescribeTable("measures a report against an expectation",
		func(e gallery.Expect, r *engine.Report, met bool, problems ...string) {
			o := gallery.Program{Name: "x", Expect: e}.Evaluate(r, ids)
			Expect(o.Met).To(Equal(met), "problems: %v", o.Problems)
			Expect(o.Problems).To(HaveLen(len(problems)))
			for i, p := range problems {
				Expect(o.Problems[i]).To(ContainSubstring(p))
			}
		},
		Entry("conformant, all pass", gallery.Expect{Conformant: true}, report(pass, pass, pass, pass), true),
		Entry("conformant, one warning", gallery.Expect{Conformant: true}, report(pass, pass, pass, warn), false,
			"robustness/no-zombies: warn, expected pass"),
		Entry("conformant, one failure", gallery.Expect{Conformant: true}, report(pass, fail, pass, pass), false,
			"verdict fail, expected pass", "large/1mib: fail, expected pass"),
		Entry("the expected failure and warning", gallery.Expect{Fail: []string{"large/1mib"}, Warn: []string{"robustness/no-zombies"}},
			report(pass, fail, pass, warn), true),
		Entry("an expected failure missed", gallery.Expect{Fail: []string{"large/1mib"}}, report(pass, pass, pass, pass), false,
			"verdict pass, expected fail", "large/1mib: pass, expected fail"),
		Entry("an unexpected failure", gallery.Expect{Fail: []string{"large/1mib"}}, report(fail, fail, pass, pass), false,
			"basic/small-message: fail, expected pass"),
		Entry("a named failure is compared even when a may_fail pattern matches it",
			gallery.Expect{Fail: []string{"large/1mib"}, MayFail: []string{"large/*"}}, report(pass, pass, pass, pass), false,
			"verdict pass, expected fail", "large/1mib: pass, expected fail"),
		Entry("an unexpected failure allowed by may_fail", gallery.Expect{Fail: []string{"large/1mib"}, MayFail: []string{"basic/*"}},
			report(fail, fail, pass, pass), true),
		Entry("caught by one of several", gallery.Expect{CaughtBy: []string{"large/1mib", "large/16mib"}}, report(pass, pass, fail, pass), true),
		Entry("caught by none of several", gallery.Expect{CaughtBy: []string{"large/1mib", "large/16mib"}}, report(pass, pass, pass, pass), false,
			"verdict pass, expected fail", "none of large/1mib, large/16mib failed"),
		Entry("a check missing from the report", gallery.Expect{Conformant: true}, report(pass, pass, pass), false,
			"robustness/no-zombies: missing from the report"),
	)

	It("renders the expectation for people", func() {
		Expect(gallery.Expect{Conformant: true}.String()).To(Equal("conformant"))
		Expect(gallery.Expect{Fail: []string{"a/b"}, Warn: []string{"c/d"}, CaughtBy: []string{"e/f", "g/h"}}.String()).
			To(Equal("a/b, c/d (warn), one of (e/f | g/h)"))
	})
})
