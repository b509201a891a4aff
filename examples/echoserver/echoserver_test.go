package echoserver_test

import (
	"errors"
	"testing"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/examples/echoserver"
)

// startServer starts the server on a free loopback port for one test.
func startServer(t *testing.T) *echoserver.Server {
	t.Helper()
	srv, err := echoserver.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return srv
}

// TestConformance runs the whole echoconf catalogue, one subtest per check:
//
//	go test -run 'TestConformance/halfclose' -v
func TestConformance(t *testing.T) {
	conformance.TestServer(t, startServer(t).Addr())
}

// TestCheckServer uses the error-returning entry point, here for the checks
// that matter most to a change in the read/write loop.
func TestCheckServer(t *testing.T) {
	srv := startServer(t)
	err := conformance.CheckServer(srv.Addr(), conformance.WithRun("basic", "partial", "halfclose"))
	var ce *conformance.CheckError
	if errors.As(err, &ce) {
		t.Logf("first failed check: %s", ce.Result.Check.ID)
	}
	if err != nil {
		t.Fatal(err)
	}
}
