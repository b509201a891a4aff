package echoginkgo_test

import (
	"context"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/internal/gallery"
	"github.com/echoconf/echoconf/spec"
)

// clientFixturePackage is a user's suite calling DescribeClient.
const clientFixturePackage = "github.com/echoconf/echoconf/conformance/echoginkgo/testdata/clientfixture"

// clientIDs lists the IDs of the client catalogue.
func clientIDs() []string {
	var ids []string
	for _, c := range spec.Clients() {
		ids = append(ids, c.ID)
	}
	return ids
}

var _ = Describe("DescribeClient", Ordered, func() {
	var bin, reference, sendsNul string
	BeforeAll(func() {
		var err error
		bin, err = gexec.CompileTest(clientFixturePackage)
		Expect(err).NotTo(HaveOccurred())
		reference, err = gexec.Build("github.com/echoconf/echoconf/cmd/echo-client")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
		dir, err := gallery.Dir()
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sendsNul, err = gallery.Build(ctx, gallery.Program{Name: "sends-nul", Sources: []string{"c/clients/sends-nul.c"}, Root: dir}, GinkgoT().TempDir())
		if err != nil && strings.Contains(err.Error(), "executable file not found") {
			Skip("no C compiler: " + err.Error())
		}
		Expect(err).NotTo(HaveOccurred())
	})

	It("adds one passing It per client check for the reference client", func() {
		r := runFixture(bin, 2*time.Minute, []string{
			"ECHOCONF_FIXTURE_CLIENT=" + reference + " -mode pipe {host}:{port}", "ECHOCONF_FIXTURE_SHAPE=stream",
		})
		Expect(r.Err).NotTo(HaveOccurred())
		expectIDs(r.withState(types.SpecStatePassed), clientIDs(), "passed specs")
		for id, s := range r.Specs {
			Expect(s.Labels()).To(ContainElements("fixture", "client"), id)
			Expect(s.LeafNodeLocation.FileName).To(HaveSuffix("testdata/clientfixture/clientfixture_test.go"), id)
		}
	})

	It("fails the spec of the check a faulty client fails, and skips what does not apply", func() {
		r := runFixture(bin, 2*time.Minute, []string{
			"ECHOCONF_FIXTURE_CLIENT=" + sendsNul + " {host} {message} {port}", "ECHOCONF_FIXTURE_SHAPE=argument",
			"ECHOCONF_FIXTURE_RUN=client/sends-exact,client/prints-echo,client/large-stream",
		})
		Expect(r.Err).To(HaveOccurred())
		expectIDs(r.withState(types.SpecStateFailed), []string{"client/sends-exact"}, "failed specs")
		expectIDs(r.withState(types.SpecStatePassed), []string{"client/prints-echo"}, "passed specs")
		expectIDs(r.withState(types.SpecStateSkipped), []string{"client/large-stream"}, "skipped specs")
		msg := r.Specs["client/sends-exact"].Failure.Message
		Expect(msg).To(HavePrefix("client/sends-exact (MUST) failed: The client sends exactly the message"))
		Expect(msg).To(ContainSubstring("NUL"))
		Expect(r.Specs["client/large-stream"].Failure.Message).To(ContainSubstring("applies to stream clients only"))
	})

	It("fails every spec, naming the problem, when the client function gives no command", func() {
		r := runFixture(bin, time.Minute, []string{"ECHOCONF_FIXTURE_SHAPE=stream", "ECHOCONF_FIXTURE_RUN=client/exit-status"})
		Expect(r.Err).To(HaveOccurred())
		expectIDs(r.withState(types.SpecStateFailed), []string{"client/exit-status"}, "failed specs")
		Expect(r.Specs["client/exit-status"].Failure.Message).To(Equal("echoconf: DescribeClient's client function returned no command"))
	})
})
