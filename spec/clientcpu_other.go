//go:build !linux

package spec

import (
	"errors"
	"time"
)

// procTimes needs /proc/PID/schedstat, which only Linux has.
func procTimes(int) (runnable, cpu time.Duration, err error) {
	return 0, 0, errors.New("cannot measure a process's CPU on this system")
}
