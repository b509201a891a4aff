package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrCommand is wrapped by the error Run and Start return when the
// exec command cannot be run at all: its program does not exist or is not
// executable, or its limits cannot be set. Such a cause belongs to the
// caller, not to the server, so no check is run or failed for it.
var ErrCommand = errors.New("cannot run the exec command")

// ErrProgram is the ErrCommand whose cause is the program itself: it does
// not exist, is not executable, or ended with exit status 126 or 127 (the
// shell's "cannot execute" and "not found") before it listened. An
// ErrCommand that is not an ErrProgram (limits that cannot be set) is the
// caller's. errors.Is(err, ErrCommand) holds for both; the message is
// ErrCommand's.
var ErrProgram error = programError{}

// programError is ErrProgram's type.
type programError struct{}

func (programError) Error() string { return ErrCommand.Error() }
func (programError) Unwrap() error { return ErrCommand }

// checkRunnable verifies, before anything starts, that argv's program can
// be executed, looking it up as execvp does: relative to dir when it holds
// a slash, else in PATH (from env when it sets one). A command run by
// /bin/sh is not looked into: sh reports what it cannot find.
func checkRunnable(argv []string, dir string, env []string) error {
	prog := argv[0]
	if prog == "/bin/sh" && len(argv) > 1 && argv[1] == "-c" {
		return nil
	}
	if strings.Contains(prog, "/") {
		p := prog
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		if err := executable(p); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrProgram, prog, err)
		}
		return nil
	}
	path := os.Getenv("PATH")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if executable(filepath.Join(d, prog)) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %s: command not found (not in PATH)", ErrProgram, prog)
}

// executable reports why the file at p cannot be executed, or nil.
func executable(p string) error {
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return errors.New("no such file")
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a directory")
	case !fi.Mode().IsRegular():
		return errors.New("not a regular file")
	case fi.Mode().Perm()&0o111 == 0:
		return errors.New("not executable (no x permission)")
	}
	return nil
}

// checkFDLimit verifies that the open-file limit can be set for the
// server: never above the kernel's maximum (fs.nr_open), and, for a server
// that does not run as root, never above the hard limit it inherits.
func checkFDLimit(x *Spec) error {
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if max, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && x.FDLimit > max {
			return fmt.Errorf("%w: the fd limit %d is above the system's maximum of %d (/proc/sys/fs/nr_open)", ErrCommand, x.FDLimit, max)
		}
	}
	root := os.Geteuid() == 0 && (x.Credential == nil || x.Credential.Uid == 0)
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && !root && uint64(x.FDLimit) > rl.Max {
		return fmt.Errorf("%w: the fd limit %d is above the hard limit of %d that an unprivileged server may raise to", ErrCommand, x.FDLimit, rl.Max)
	}
	return nil
}
