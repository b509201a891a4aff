package gallery

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// ProcessChecks returns the IDs of the catalogue's checks that need the
// server's process; against an address they skip.
func ProcessChecks() []string {
	var ids []string
	for _, c := range spec.All() {
		if c.Needs == spec.NeedsProcess {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Served is a gallery server started by Serve.
type Served struct {
	Program Program
	*engine.Process
	// Run and Fail are Program.AddrExpectation of the checks Serve was
	// given: the checks whose status the manifest fixes by address, and
	// those of them that must fail.
	Run, Fail []string
}

// Stop stops the server's process group (engine.Process.Close).
func (s *Served) Stop() { s.Close() }

// serveTimeout bounds building and starting a server in Serve.
const serveTimeout = time.Minute

// Serve builds the gallery server name into dir and starts it on a free
// port of 127.0.0.1 (engine.StartProcess), for the adapters, which
// check an address, and works out what the manifest fixes about the
// checks ids by address. It fails unless some of them must fail. The
// caller stops the server.
func Serve(ctx context.Context, name, dir string, ids []string) (*Served, error) {
	ctx, cancel := context.WithTimeout(ctx, serveTimeout)
	defer cancel()
	m, err := Load()
	if err != nil {
		return nil, err
	}
	p, ok := m.Server(name)
	if !ok {
		return nil, fmt.Errorf("gallery: no server %q in the manifest", name)
	}
	run, fail := p.AddrExpectation(ids)
	if len(fail) == 0 {
		return nil, fmt.Errorf("gallery: %s fails none of %v by address", name, ids)
	}
	bin, err := m.Build(ctx, p, dir)
	if err != nil {
		return nil, err
	}
	proc, err := engine.StartProcess(ctx, *p.Target(bin).Exec)
	if err != nil {
		return nil, fmt.Errorf("gallery: start %s: %w", name, err)
	}
	return &Served{Program: p, Process: proc, Run: run, Fail: fail}, nil
}

// AddrExpectation is what the manifest fixes about p when it is checked by
// address with the checks ids: Run lists the checks whose status it fixes
// (catalogue order, process checks and checks expected unjudged left
// out), and Fail those of them that must fail; every other check of Run
// must pass.
func (p Program) AddrExpectation(ids []string) (run, fail []string) {
	for _, id := range ids {
		if slices.Contains(ProcessChecks(), id) || !p.Compared(id) || slices.Contains(p.Expect.Unjudged, id) {
			continue
		}
		run = append(run, id)
		if slices.Contains(p.Expect.Fail, id) {
			fail = append(fail, id)
		}
	}
	return run, fail
}
