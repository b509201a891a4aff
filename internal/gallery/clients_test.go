package gallery_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/gallery"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("the client manifest", func() {
	var good *gallery.Manifest

	BeforeEach(func() {
		Expect(clientsErr).NotTo(HaveOccurred())
		good = clients
	})

	// mutate returns a copy of the manifest with client name changed by f.
	mutate := func(name string, f func(p *gallery.Program)) *gallery.Manifest {
		GinkgoHelper()
		i := slices.IndexFunc(good.Clients, func(p gallery.Program) bool { return p.Name == name })
		Expect(i).To(BeNumerically(">=", 0), name)
		m := *good
		m.Clients = slices.Clone(good.Clients)
		p := m.Clients[i]
		p.Expect.Fail = slices.Clone(p.Expect.Fail)
		p.Expect.Warn = slices.Clone(p.Expect.Warn)
		f(&p)
		m.Clients[i] = p
		return &m
	}

	DescribeTable("rejects",
		func(name string, f func(p *gallery.Program), want string) {
			Expect(mutate(name, f).ValidateClients()).To(MatchError(ContainSubstring(want)))
		},
		Entry("an unknown check", "reads-once", func(p *gallery.Program) { p.Expect.Fail[0] = "client/short-read" }, `unknown client check "client/short-read"`),
		Entry("a SHOULD check expected to fail", "no-timeout", func(p *gallery.Program) { p.Expect.Fail, p.Expect.Warn = p.Expect.Warn, nil }, "client/gives-up is a SHOULD check"),
		Entry("a MUST check expected to warn", "sends-nul", func(p *gallery.Program) { p.Expect.Fail, p.Expect.Warn = nil, p.Expect.Fail }, "client/sends-exact is a MUST check"),
		Entry("a check that does not apply to the shape", "reads-once", func(p *gallery.Program) { p.Expect.Fail = append(p.Expect.Fail, "client/large-stream") }, "does not apply to the argument shape"),
		Entry("a check named twice", "reads-once", func(p *gallery.Program) { p.Expect.Fail = append(p.Expect.Fail, p.Expect.Fail[0]) }, "is named twice"),
		Entry("a faulty client that names no check", "sends-nul", func(p *gallery.Program) { p.Expect.Fail = nil }, "must name the checks"),
		Entry("a faulty client without its fault", "sends-nul", func(p *gallery.Program) { p.Fault = "" }, "must describe its fault"),
		Entry("a correct client with a failure", "arg-client", func(p *gallery.Program) { p.Expect.Fail = []string{"client/reset"} }, "a correct client must expect"),
		Entry("a server's expectation", "sends-nul", func(p *gallery.Program) { p.Expect.MayFail = []string{"client/*"} }, "expects only conformant, fail and warn"),
		Entry("an unknown kind", "arg-client", func(p *gallery.Program) { p.Kind = gallery.KindMisbehaving }, `kind "misbehaving"`),
		Entry("an unknown shape", "arg-client", func(p *gallery.Program) { p.Shape = "batch" }, `unknown client shape "batch"`),
		Entry("an argument client without {message}", "arg-client", func(p *gallery.Program) { p.Run = "{bin} {host} {port}" }, "an argument client needs a {message}"),
		Entry("a stdin client with {message}", "line-client", func(p *gallery.Program) { p.Run = "{bin} {host} {port} {message}" }, "shape reads its input from stdin"),
		Entry("a terminal for a stream client", "stream-client", func(p *gallery.Program) { p.TTY = true }, "cannot be typed on a terminal"),
		Entry("a network", "stream-client", func(p *gallery.Program) { p.Network = "udp" }, "a client has no network"),
		Entry("an unknown placeholder", "line-client", func(p *gallery.Program) { p.Run = "{bin} {host} {port} {seed}" }, "unknown placeholder {seed}"),
		Entry("a run without {port}", "line-client", func(p *gallery.Program) { p.Run = "{bin} {host} 7" }, "has no {port}"),
		Entry("a missing source", "line-client", func(p *gallery.Program) { p.Sources = []string{"c/clients/nowhere.c"} }, "nowhere.c"),
		Entry("a source outside testdata", "line-client", func(p *gallery.Program) { p.Sources = []string{"../go.mod"} }, "must be inside testdata"),
		Entry("a bad name", "line-client", func(p *gallery.Program) { p.Name = "Line Client" }, "name must match"),
		Entry("a duplicate name", "line-client", func(p *gallery.Program) { p.Name = "arg-client" }, "duplicate name"),
	)

	It("rejects an unknown field, and servers", func() {
		file := filepath.Join(GinkgoT().TempDir(), gallery.ClientManifestFile)
		Expect(os.WriteFile(file, []byte(`{"clients": [], "programs": []}`), 0o644)).To(Succeed())
		_, err := gallery.LoadClientsFile(file)
		Expect(err).To(MatchError(ContainSubstring(`unknown field "programs"`)))
		Expect(os.WriteFile(file, []byte(`{"clients": [], "servers": [{"name": "x"}]}`), 0o644)).To(Succeed())
		_, err = gallery.LoadClientsFile(file)
		Expect(err).To(MatchError(ContainSubstring("a client manifest lists no servers")))
	})

	It("matches each client's header: a faulty one says FAULTY and names exactly its checks, a correct one none", func() {
		idRE := regexp.MustCompile(`client/[a-z-]+[a-z]`)
		for _, p := range good.Clients {
			src, err := os.ReadFile(filepath.Join(good.Dir, p.Sources[0]))
			Expect(err).NotTo(HaveOccurred())
			header := headerOf(p.Sources[0], string(src))
			Expect(header).NotTo(BeEmpty(), "%s has no comment block at the top", p.Name)
			if p.Kind == gallery.KindCorrect {
				Expect(header).NotTo(ContainSubstring("FAULTY"), p.Name)
				continue
			}
			Expect(idRE.FindAllString(header, -1)).To(ConsistOf(slices.Concat(p.Expect.Fail, p.Expect.Warn)),
				"%s's header and manifest entry disagree", p.Name)
			Expect(header).To(ContainSubstring("FAULTY"), p.Name)
		}
	})

	It("covers every client check with at least one faulty client", func() {
		caught := make(map[string]bool)
		for _, p := range good.Clients {
			for _, id := range slices.Concat(p.Expect.Fail, p.Expect.Warn) {
				caught[id] = true
			}
		}
		for _, c := range spec.Clients() {
			Expect(caught).To(HaveKey(c.ID), "no faulty client of the gallery fails %s", c.ID)
		}
	})

	It("turns a client into a client target, with {host}, {port} and {message} left to the runner", func() {
		arg := mutate("arg-client", func(*gallery.Program) {})
		i := slices.IndexFunc(arg.Clients, func(p gallery.Program) bool { return p.Name == "arg-client" })
		t := arg.Clients[i].Target("/tmp/my dir/arg-client")
		Expect(t.Exec).To(BeNil())
		Expect(t.Client).NotTo(BeNil())
		Expect(t.Client.Command).To(Equal("'/tmp/my dir/arg-client' {host} {message} {port}"))
		Expect(t.Client.Shape).To(Equal(spec.ShapeArgument))
	})
})

// headerOf returns the comment at the top of a source file: C's first
// block comment, Python's module docstring, or the leading # lines of a
// Perl or shell script (its #! line aside).
func headerOf(name, src string) string {
	switch filepath.Ext(name) {
	case ".c":
		header, _, _ := strings.Cut(src, "*/")
		return header
	case ".py":
		_, rest, _ := strings.Cut(src, `"""`)
		doc, _, _ := strings.Cut(rest, `"""`)
		return doc
	}
	var b strings.Builder
	for i, l := range strings.Split(src, "\n") {
		if i == 0 && strings.HasPrefix(l, "#!") {
			continue
		}
		if !strings.HasPrefix(l, "#") {
			break
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}
