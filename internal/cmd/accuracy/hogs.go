package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// hogEnv, set to "1", makes the accuracy binary a CPU-bound neighbour: it
// spins until it is killed.
const hogEnv = "ECHOCONF_ACCURACY_HOG"

// spin burns one CPU forever. Its parent kills it, and the kernel does
// when the parent dies (Pdeathsig).
func spin() {
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 0 {
			fmt.Fprintln(os.Stderr, x) // never: keeps the loop from being optimised away
		}
	}
}

// hogs is a set of CPU-bound neighbour processes, each in its own process
// group.
type hogs struct{ cmds []*exec.Cmd }

// startHogs starts n neighbours: copies of this binary that spin. On an
// error, the ones already started are stopped.
func startHogs(n int) (*hogs, error) {
	h := &hogs{}
	if n == 0 {
		return h, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start neighbours: %w", err)
	}
	for i := 0; i < n; i++ {
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), hogEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			h.stop()
			return nil, fmt.Errorf("start neighbour %d of %d: %w", i+1, n, err)
		}
		h.cmds = append(h.cmds, cmd)
	}
	return h, nil
}

// stop kills every neighbour's process group and waits for each.
func (h *hogs) stop() {
	for _, cmd := range h.cmds {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			_ = cmd.Process.Kill() // the group is gone or not ours: the process itself then
		}
		_ = cmd.Wait() // killed: its exit status says so and nothing more
	}
	h.cmds = nil
}
