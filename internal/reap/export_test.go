package reap

// Proc builds a process entry, for the unit tests of MayCarry.
func Proc(pid, ppid, pgid, sid int) proc {
	return proc{pid: pid, ppid: ppid, pgid: pgid, sid: sid, state: 'S'}
}

// MayCarry is mayCarry.
var MayCarry = mayCarry
