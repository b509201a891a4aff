package spec

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procTimes returns how long pid has run or waited to run
// (/proc/PID/schedstat, so a busy machine does not hide a spinning
// process), and how long it has run (utime+stime from /proc/PID/stat, in
// USER_HZ ticks of 10 ms).
func procTimes(pid int) (runnable, cpu time.Duration, err error) {
	sched, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(sched))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("schedstat: %q", sched)
	}
	run, err1 := strconv.ParseInt(f[0], 10, 64)
	waited, err2 := strconv.ParseInt(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, 0, fmt.Errorf("stat: %q", stat)
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	return time.Duration(run + waited), time.Duration(ut+st) * 10 * time.Millisecond, nil
}
