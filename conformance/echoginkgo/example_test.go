package echoginkgo_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/conformance/echoginkgo"
	"github.com/echoconf/echoconf/impl/echotest"
)

// In a Ginkgo suite of the package that implements the server: the server
// starts in BeforeSuite, and DescribeServer adds one It per check, labelled
// by category and level ("ginkgo --label-filter='halfclose && must'"), with
// the check's timeout as SpecTimeout and exclusive checks marked Serial.
// It is not run here: DescribeServer belongs in a suite's tree.
func ExampleDescribeServer() {
	var srv *echotest.Server // your server

	var _ = BeforeSuite(func() {
		srv = echotest.NewServer()
		DeferCleanup(srv.Close)
	})

	var _ = echoginkgo.DescribeServer("my echo server", func() string { return srv.Addr },
		Label("echo"), conformance.WithSkip("large"), conformance.WithTimeoutScale(2))
}

// EchoBack and PassCheck work with any Gomega, here one that prints
// failures instead of failing a spec.
func ExampleEchoBack() {
	srv := echotest.NewServer()
	defer srv.Close()
	g := NewGomega(func(message string, _ ...int) { fmt.Println(message) })

	if g.Expect(srv.Addr).To(echoginkgo.EchoBack([]byte("hello, world\n"))) {
		fmt.Println("echoed")
	}
	if g.Expect(srv.Addr).To(echoginkgo.PassCheck("halfclose/small-pending")) {
		fmt.Println("passed halfclose/small-pending")
	}
	// Output:
	// echoed
	// passed halfclose/small-pending
}
