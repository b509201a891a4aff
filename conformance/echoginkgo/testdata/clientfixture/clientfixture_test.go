// Package clientfixture is a Ginkgo suite that uses DescribeClient the way
// a user would. The echoginkgo specs build it and run it in a child process
// against clients. Its environment:
//
//	ECHOCONF_FIXTURE_CLIENT  the client's command line
//	ECHOCONF_FIXTURE_SHAPE   its shape: argument, interactive or stream
//	ECHOCONF_FIXTURE_RUN     comma-separated conformance.WithRun globs
package clientfixture

import (
	"os"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/conformance/echoginkgo"
	"github.com/echoconf/echoconf/spec"
)

func TestClientFixture(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "echoginkgo client fixture")
}

var _ = echoginkgo.DescribeClient("fixture client", fixtureClient, fixtureArgs()...) // DescribeClient call

// fixtureClient is the client of the environment; an unknown shape fails
// the spec that asks.
func fixtureClient() conformance.Client {
	shape, err := spec.ParseShape(os.Getenv("ECHOCONF_FIXTURE_SHAPE"))
	Expect(err).NotTo(HaveOccurred())
	return conformance.Client{Command: os.Getenv("ECHOCONF_FIXTURE_CLIENT"), Shape: shape}
}

// fixtureArgs turns the environment into DescribeClient's arguments.
func fixtureArgs() []any {
	args := []any{Label("fixture")}
	if run := os.Getenv("ECHOCONF_FIXTURE_RUN"); run != "" {
		args = append(args, conformance.WithRun(strings.Split(run, ",")...))
	}
	return args
}
