package gallery

import (
	"context"
	"fmt"
	"slices"

	"github.com/echoconf/echoconf/conformance"
)

// ProcessChecks are the checks that need the server's process; against an
// address they skip.
var ProcessChecks = []string{"robustness/server-alive", "robustness/no-zombies", "robustness/fd-stable"}

// Serve builds the gallery server name into dir and starts it on a free
// port of 127.0.0.1 (conformance.StartProcess), for the adapters, which
// check an address. The caller closes the returned process.
func Serve(ctx context.Context, name, dir string) (Program, *conformance.Process, error) {
	m, err := Load()
	if err != nil {
		return Program{}, nil, err
	}
	p, ok := m.Server(name)
	if !ok {
		return Program{}, nil, fmt.Errorf("gallery: no server %q in the manifest", name)
	}
	bin, err := m.Build(ctx, p, dir)
	if err != nil {
		return p, nil, err
	}
	proc, err := conformance.StartProcess(ctx, *p.Target(bin).Exec)
	if err != nil {
		return p, nil, fmt.Errorf("gallery: start %s: %w", name, err)
	}
	return p, proc, nil
}

// AddrExpectation is what the manifest fixes about p when it is checked by
// address with the checks ids: Run lists the checks whose status it fixes
// (catalogue order, process checks left out), and Fail those of them that
// must fail; every other check of Run must pass.
func (p Program) AddrExpectation(ids []string) (run, fail []string) {
	for _, id := range ids {
		if slices.Contains(ProcessChecks, id) || !p.Compared(id) {
			continue
		}
		run = append(run, id)
		if slices.Contains(p.Expect.Fail, id) {
			fail = append(fail, id)
		}
	}
	return run, fail
}
