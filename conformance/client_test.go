package conformance_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/internal/gallery"
	"github.com/echoconf/echoconf/spec"
)

// The environment of TestFixtureTestClient.
const (
	envFixtureClient = "ECHOCONF_FIXTURE_CLIENT" // the client's command; unset: the fixture skips
	envFixtureShape  = "ECHOCONF_FIXTURE_SHAPE"  // its shape
)

// TestFixtureTestClient is a fixture, not a test: the TestClient specs run
// it in a child process and read its go test -json events. Run directly it
// skips.
func TestFixtureTestClient(t *testing.T) {
	command := os.Getenv(envFixtureClient)
	if command == "" {
		t.Skip("fixture for the TestClient specs; it runs only in their child process, with " + envFixtureClient + " set")
	}
	shape, err := spec.ParseShape(os.Getenv(envFixtureShape))
	if err != nil {
		t.Fatal(err)
	}
	conformance.TestClient(t, conformance.Client{Command: command, Shape: shape})
}

// referenceClient builds cmd/echo-client and returns its command line in
// pipe mode, a stream client.
func referenceClient() string {
	GinkgoHelper()
	bin, err := gexec.Build("github.com/echoconf/echoconf/cmd/echo-client")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(gexec.CleanupBuildArtifacts)
	return bin + " -mode pipe {host}:{port}"
}

// galleryClient builds the C client testdata/c/clients/NAME.c and returns
// its binary.
func galleryClient(name string) string {
	GinkgoHelper()
	dir, err := gallery.Dir()
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bin, err := gallery.Build(ctx, gallery.Program{Name: name, Sources: []string{"c/clients/" + name + ".c"}, Root: dir}, GinkgoT().TempDir())
	if err != nil && strings.Contains(err.Error(), "executable file not found") {
		Skip("no C compiler: " + err.Error())
	}
	Expect(err).NotTo(HaveOccurred())
	return bin
}

var _ = Describe("TestClient", func() {
	const fixture = "TestFixtureTestClient"

	It("passes the reference client, one subtest per client check", func() {
		r := runChild("^"+fixture+"$", 2*time.Minute, envFixtureClient+"="+referenceClient(), envFixtureShape+"=stream")
		Expect(r.Err).NotTo(HaveOccurred(), "the reference client fails:\n%s", r.Output[fixture])
		var ids []string
		for _, c := range spec.Clients() {
			ids = append(ids, c.ID)
		}
		expectNames(r.withAction("pass"), prefixed(fixture, ids...), "passed tests")
	})

	It("fails the subtest of the check a faulty client fails, and skips what does not apply", func() {
		r := runChild("^"+fixture+"$", 2*time.Minute, envFixtureClient+"="+galleryClient("sends-nul")+" {host} {message} {port}", envFixtureShape+"=argument")
		Expect(r.Err).To(HaveOccurred())
		expectNames(r.withAction("fail"), []string{fixture, fixture + "/client/sends-exact"}, "failed tests")
		expectNames(r.withAction("skip"), []string{fixture + "/client/large-stream"}, "skipped tests")
		Expect(r.Output[fixture+"/client/sends-exact"]).To(ContainSubstring("client/sends-exact (MUST) failed: The client sends exactly the message"))
	})
})

var _ = Describe("CheckClient", func() {
	It("returns nil for the reference client", func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		Expect(conformance.CheckClient(ctx, conformance.Client{Command: referenceClient(), Shape: spec.ShapeStream})).To(Succeed())
	})

	It("returns every failure of a faulty client, each naming its check", func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// reads-once calls recv once: it fails three checks.
		err := conformance.CheckClient(ctx, conformance.Client{Command: galleryClient("reads-once") + " {host} {message} {port}"})
		Expect(err).To(HaveOccurred())
		var failed []string
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var ce *conformance.CheckError
			Expect(errors.As(e, &ce)).To(BeTrue(), "%v", e)
			failed = append(failed, ce.Result.Check.ID)
			var f *spec.Failure
			Expect(errors.As(e, &f)).To(BeTrue(), "%s: %v", ce.Result.Check.ID, e)
		}
		Expect(failed).To(Equal([]string{"client/short-reads", "client/resplit-echo", "client/close-half"}))
		Expect(err.Error()).To(ContainSubstring("client/short-reads (MUST) failed: The client keeps reading"))
	})

	It("refuses a command that does not fit its shape, or cannot run, before any check", func() {
		ctx := context.Background()
		err := conformance.CheckClient(ctx, conformance.Client{Command: "./client {host} {port}", Shape: spec.ShapeArgument})
		Expect(err).To(MatchError(ContainSubstring("has no {message}")))
		var ce *conformance.CheckError
		Expect(errors.As(err, &ce)).To(BeFalse())
		err = conformance.CheckClient(ctx, conformance.Client{Command: "/no/such/client {host} {port}", Shape: spec.ShapeStream})
		Expect(err).To(MatchError(conformance.ErrCommand))
		err = conformance.CheckClient(ctx, conformance.Client{Command: "/bin/true {host} {port}", Shape: spec.ShapeStream}, conformance.WithRun("basic"))
		Expect(err).To(MatchError(ContainSubstring(`"basic" matches no check`)))
	})
})
