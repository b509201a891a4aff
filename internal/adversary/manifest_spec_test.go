package adversary_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the client manifest's validation", func() {
	var good *clientManifest

	BeforeEach(func() {
		var err error
		good, err = loadClients(filepath.Join(testdataDir(), clientsFile), clientChecks)
		Expect(err).NotTo(HaveOccurred())
	})

	// mutate returns a copy of the manifest with client i changed by f.
	mutate := func(i int, f func(p *clientProgram)) *clientManifest {
		m := *good
		m.Clients = slices.Clone(good.Clients)
		p := m.Clients[i]
		p.Expect.Fail = slices.Clone(p.Expect.Fail)
		p.Expect.Warn = slices.Clone(p.Expect.Warn)
		f(&p)
		m.Clients[i] = p
		return &m
	}
	index := func(name string) int {
		i := slices.IndexFunc(good.Clients, func(p clientProgram) bool { return p.Name == name })
		Expect(i).To(BeNumerically(">=", 0), name)
		return i
	}

	DescribeTable("rejects",
		func(name string, f func(p *clientProgram), want string) {
			err := mutate(index(name), f).validate(clientChecks)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("an unknown check", "reads-once", func(p *clientProgram) { p.Expect.Fail[0] = "client/short-read" }, `unknown check "client/short-read"`),
		Entry("a SHOULD check expected to fail", "no-timeout", func(p *clientProgram) { p.Expect.Fail, p.Expect.Warn = p.Expect.Warn, nil }, "client/gives-up is a SHOULD check"),
		Entry("a MUST check expected to warn", "sends-nul", func(p *clientProgram) { p.Expect.Fail, p.Expect.Warn = nil, p.Expect.Fail }, "client/sends-exact is a MUST check"),
		Entry("a check that does not apply to the shape", "reads-once", func(p *clientProgram) { p.Expect.Fail = append(p.Expect.Fail, "client/large-stream") }, "does not apply to the argument shape"),
		Entry("a check named twice", "reads-once", func(p *clientProgram) { p.Expect.Fail = append(p.Expect.Fail, p.Expect.Fail[0]) }, "is named twice"),
		Entry("a faulty client that names no check", "sends-nul", func(p *clientProgram) { p.Expect.Fail = nil }, "must name the checks"),
		Entry("a faulty client without its fault", "sends-nul", func(p *clientProgram) { p.Fault = "" }, "must describe its fault"),
		Entry("a correct client with a failure", "arg-client", func(p *clientProgram) { p.Expect.Fail = []string{"client/reset"} }, "a correct client must expect"),
		Entry("an unknown shape", "arg-client", func(p *clientProgram) { p.Shape = "batch" }, `shape "batch"`),
		Entry("an argument client without {message}", "arg-client", func(p *clientProgram) { p.Run = "{bin} {host} {port}" }, "{message} is for the argument shape"),
		Entry("a stdin client with {message}", "line-client", func(p *clientProgram) { p.Run = "{bin} {host} {port} {message}" }, "{message} is for the argument shape"),
		Entry("a terminal for a stream client", "stream-client", func(p *clientProgram) { p.TTY = true }, "tty is for the interactive shape only"),
		Entry("an unknown placeholder", "line-client", func(p *clientProgram) { p.Run = "{bin} {host} {port} {seed}" }, "unknown placeholder {seed}"),
		Entry("a run without {port}", "line-client", func(p *clientProgram) { p.Run = "{bin} {host} 7" }, "has no {port}"),
		Entry("a missing source", "line-client", func(p *clientProgram) { p.Sources = []string{"c/clients/nowhere.c"} }, "nowhere.c"),
		Entry("a source outside testdata", "line-client", func(p *clientProgram) { p.Sources = []string{"../go.mod"} }, "must be inside testdata"),
		Entry("a bad name", "line-client", func(p *clientProgram) { p.Name = "Line Client" }, "name must match"),
		Entry("a duplicate name", "line-client", func(p *clientProgram) { p.Name = "arg-client" }, "duplicate name"),
	)

	It("rejects an unknown field", func() {
		file := filepath.Join(GinkgoT().TempDir(), clientsFile)
		Expect(os.WriteFile(file, []byte(`{"clients": [], "servers": []}`), 0o644)).To(Succeed())
		_, err := loadClients(file, clientChecks)
		Expect(err).To(MatchError(ContainSubstring(`unknown field "servers"`)))
	})

	It("matches each client's header: a faulty one says FAULTY and names exactly its checks, a correct one none", func() {
		idRE := regexp.MustCompile(`client/[a-z-]+[a-z]`)
		for _, p := range good.Clients {
			src, err := os.ReadFile(filepath.Join(good.Dir, p.Sources[0]))
			Expect(err).NotTo(HaveOccurred())
			header, _, found := strings.Cut(string(src), "*/")
			Expect(found).To(BeTrue(), "%s has no comment block at the top", p.Name)
			named := idRE.FindAllString(header, -1)
			want := slices.Concat(p.Expect.Fail, p.Expect.Warn)
			Expect(named).To(ConsistOf(want), "%s's header and manifest entry disagree", p.Name)
			Expect(strings.Contains(header, "FAULTY")).To(Equal(p.Kind == "faulty"), p.Name)
		}
	})

	It("covers every check with at least one faulty client", func() {
		caught := make(map[string]bool)
		for _, p := range good.Clients {
			for _, id := range slices.Concat(p.Expect.Fail, p.Expect.Warn) {
				caught[id] = true
			}
		}
		for _, c := range clientChecks {
			Expect(caught).To(HaveKey(c.ID), "no faulty client of the gallery fails %s", c.ID)
		}
	})
})
