package conformance_test

import (
	"os"
	"testing"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/internal/engine"
)

// envTarget names the running server that TestTarget checks.
const envTarget = "ECHOCONF_TARGET"

// TestTarget checks the echo server at $ECHOCONF_TARGET ("HOST:PORT") with
// the whole catalogue, one subtest per check:
//
//	ECHOCONF_TARGET=127.0.0.1:7007 go test ./conformance -run TestTarget -v
//
// It fails if and only if the server is not conformant, and the failing
// subtests name the checks. Without the variable it checks the reference
// server (impl/echotest), which must pass, and says so in its log.
func TestTarget(t *testing.T) {
	addr := os.Getenv(envTarget)
	if addr == "" {
		srv := echotest.NewServer()
		t.Cleanup(func() {
			if err := srv.Close(); err != nil {
				t.Errorf("closing the reference server: %v", err)
			}
		})
		addr = srv.Addr
		t.Logf("%s is not set: checking the reference server at %s", envTarget, addr)
	} else if err := engine.ValidateAddr(addr); err != nil {
		t.Fatalf("%s: %v", envTarget, err)
	}
	conformance.TestServer(t, addr)
}
