package engine

import "github.com/echoconf/echoconf/spec"

// holds reports whether some check at idx failed on bytes the server read
// and kept (spec.Failure.Held): the server withholds echoes on its own, so
// the exclusive checks are worth trying together first (see together).
func (e *engine) holds(idx []int) bool {
	if !e.confirming() {
		return false
	}
	for _, i := range idx {
		if f := e.results[i].Failure(); f != nil && f.Held > 0 {
			return true
		}
	}
	return false
}

// together runs exclusive checks Options.Parallel at a time, then re-runs
// alone, one at a time, each whose result may owe something to the checks
// beside it. Two results stand: a failure on bytes the server read and
// kept, which is the server's own doing as it would be alone, and a pass
// of a check that needs only the address, as a pass of the first checks
// stands (more traffic beside a check does not make a server pass it). A
// check that observes the process (its open files, its children) counts
// what the others did too, so it is always run again. Against a server
// that withholds its echoes, the exclusive checks then wait out their
// silences at once.
func (e *engine) together(idx []int) {
	e.pool(idx, e.o.Parallel)
	var again []int
	for _, i := range idx {
		r := e.results[i]
		f := r.Failure()
		switch {
		case r.ServerDied != "":
		case f != nil && f.Held > 0:
			continue
		case r.Status == StatusPass && r.Check.Needs == spec.NeedsAddress:
			continue
		}
		again = append(again, i)
	}
	e.pool(again, 1)
}

// confirming reports whether failures beside others are re-run alone
// (Options.ConfirmAlone): checks ran beside each other, and the server is
// still there to run them against.
func (e *engine) confirming() bool {
	return e.o.ConfirmAlone && e.o.Parallel > 1 && !e.serverGone()
}

// serverGone reports whether the server never came up or has died.
func (e *engine) serverGone() bool {
	return e.down != nil || (e.srv != nil && e.srv.Died())
}
