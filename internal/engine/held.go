package engine

// holds reports whether some check at idx failed on bytes the server read
// and kept (spec.Failure.Held): the server withholds echoes on its own, so
// the exclusive checks are worth trying together first (see together).
func (e *engine) holds(idx []int) bool {
	if !e.o.ConfirmAlone || e.o.Parallel <= 1 || e.down != nil || (e.srv != nil && e.srv.Died()) {
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
// alone, one at a time, each whose result is anything but a failure on
// bytes the server read and kept: such a failure is the server's own
// doing, as it would be alone, while a pass or any other failure may owe
// something to the checks beside it. Against a server that withholds its
// echoes, the exclusive checks then wait out their silences at once.
func (e *engine) together(idx []int) {
	e.pool(idx, e.o.Parallel)
	var again []int
	for _, i := range idx {
		if f := e.results[i].Failure(); f == nil || f.Held == 0 || e.results[i].ServerDied != "" {
			again = append(again, i)
		}
	}
	e.pool(again, 1)
}
