//go:build !linux

package impl

import "syscall"

// childProcAttr keeps a child in its parent's process group, so that
// killing the server's group ends its children too.
func childProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
