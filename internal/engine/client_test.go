package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/process"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("a client target", func() {
	DescribeTable("is refused before any check runs",
		func(t engine.Target, o engine.Options, want string) {
			_, err := engine.Run(context.Background(), t, o)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("an empty command", engine.Target{Client: &engine.ClientTarget{Command: " "}}, engine.Options{}, "the client command is empty"),
		Entry("no {port}", engine.Target{Client: &engine.ClientTarget{Command: "cat {host}", Shape: spec.ShapeStream}}, engine.Options{}, "has no {port}"),
		Entry("an argument client without {message}", engine.Target{Client: &engine.ClientTarget{Command: "cat {host} {port}"}}, engine.Options{}, "has no {message}"),
		Entry("a stream client with {message}", engine.Target{Client: &engine.ClientTarget{Command: "cat {port} {message}", Shape: spec.ShapeStream}},
			engine.Options{}, "reads its input from stdin"),
		Entry("a terminal for a stream client", engine.Target{Client: &engine.ClientTarget{Command: "cat {port}", Shape: spec.ShapeStream, TTY: true}},
			engine.Options{}, "drop --tty"),
		Entry("an unknown shape", engine.Target{Client: &engine.ClientTarget{Command: "cat {port}", Shape: spec.Shape(9)}}, engine.Options{}, "unknown client shape"),
		Entry("both a client and a server", engine.Target{Addr: "127.0.0.1:7", Client: &engine.ClientTarget{Command: "cat {port}", Shape: spec.ShapeStream}},
			engine.Options{}, "both a client and a server"),
		Entry("server checks for a client", engine.Target{Client: &engine.ClientTarget{Command: "cat {port}", Shape: spec.ShapeStream}},
			engine.Options{Checks: spec.All()}, "judges a server, and the target is a client"),
		Entry("client checks for a server", engine.Target{Addr: "127.0.0.1:7"}, engine.Options{Checks: spec.Clients()},
			"judges a client, and the target is a server"),
	)

	It("refuses a program that cannot run, as ErrProgram", func() {
		_, err := engine.Run(context.Background(), engine.Target{Client: &engine.ClientTarget{
			Command: filepath.Join(GinkgoT().TempDir(), "client") + " {host} {port}", Shape: spec.ShapeInteractive}}, engine.Options{})
		Expect(errors.Is(err, process.ErrProgram)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(ContainSubstring("no such file")))
	})

	Describe("the reference echo-client", Ordered, func() {
		var bin string
		BeforeAll(func() {
			var err error
			bin, err = gexec.Build("github.com/echoconf/echoconf/cmd/echo-client")
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(os.RemoveAll, filepath.Dir(bin))
		})

		DescribeTable("passes every client check that applies to its mode",
			func(mode string, shape spec.Shape, tty bool) {
				t := engine.Target{Client: &engine.ClientTarget{Command: bin + " -mode " + mode + " {host}:{port}", Shape: shape, TTY: tty}}
				rep, err := engine.Run(context.Background(), t, engine.Options{})
				Expect(err).NotTo(HaveOccurred())
				Expect(rep.Client).To(Equal(&engine.ClientInfo{Shape: shape.String(), TTY: tty}))
				Expect(rep.Target).To(Equal(t.Client.Command))
				got, want := map[string]engine.Status{}, map[string]engine.Status{}
				for _, r := range rep.Results {
					got[r.Check.ID] = r.Status
					want[r.Check.ID] = engine.StatusPass
					if !r.Check.AppliesTo(shape) {
						want[r.Check.ID] = engine.StatusSkip
					}
				}
				Expect(cmp.Diff(want, got)).To(BeEmpty(), "status by check (-want +got)")
				Expect(rep.Verdict()).To(Equal(engine.VerdictPass))
			},
			Entry("pipe mode, a stream client", "pipe", spec.ShapeStream, false),
			Entry("interactive mode, a line client", "interactive", spec.ShapeInteractive, false),
			Entry("auto mode on a terminal, a line client", "auto", spec.ShapeInteractive, true),
		)
	})
})
