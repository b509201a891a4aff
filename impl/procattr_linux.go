package impl

import "syscall"

// childProcAttr keeps a child in its parent's process group, so that
// killing the server's group ends its children too, and has the kernel kill
// the child if the parent dies first.
//
// Pdeathsig fires when the parent thread that started the child exits; the
// Go runtime does not end its threads while the server runs, and the
// parent reaps every child anyway, so the signal only matters after a crash.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
