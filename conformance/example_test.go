package conformance_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/fakeserver"
)

// A test in the package of an echo server: one subtest per check, so
// "go test -run 'TestEchoServer/halfclose'" runs one category and
// "go test -run 'TestEchoServer/halfclose/small-pending'" one check.
func ExampleTestServer() {
	TestEchoServer := func(t *testing.T) {
		srv := echotest.NewServer() // start your own server on 127.0.0.1:0
		t.Cleanup(func() { srv.Close() })
		conformance.TestServer(t, srv.Addr, conformance.WithTimeoutScale(2))
	}
	_ = TestEchoServer
}

func ExampleCheckServer() {
	srv := echotest.NewServer()
	defer srv.Close()

	if err := conformance.CheckServer(srv.Addr); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("conformant")
	// Output: conformant
}

// The error of a non-conformant server joins one *CheckError per failed
// check; each names the check and wraps the *spec.Failure that explains it.
func ExampleCheckServer_failures() {
	// A server that echoes, but never closes after the client's FIN.
	srv, err := fakeserver.Start(echoWithoutFIN)
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	err = conformance.CheckServer(srv.Addr, conformance.WithRun("halfclose"))
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *conformance.CheckError
		if errors.As(e, &ce) {
			fmt.Println(ce.Result.Check.ID, ce.Result.Failure().Kind)
		}
	}
	// Output:
	// halfclose/no-data no-eof
	// halfclose/small-pending no-eof
	// halfclose/large-pending no-eof
}
