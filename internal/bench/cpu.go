package bench

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// selfCPU returns the process's CPU time so far.
func selfCPU() CPUUse {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return CPUUse{}
	}
	return CPUUse{User: time.Duration(ru.Utime.Nano()), System: time.Duration(ru.Stime.Nano())}
}

// cpuTimes is the first line of /proc/stat, in clock ticks.
type cpuTimes struct{ idle, total uint64 }

func machineCPU() cpuTimes {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	var t cpuTimes
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			continue
		}
		if i < 8 { // user nice system idle iowait irq softirq steal; guest is in user
			t.total += v
		}
		if i == 3 || i == 4 {
			t.idle += v
		}
	}
	return t
}

// The spinner keeps one CPU awake (Config.Awake).
var (
	spinMu  sync.Mutex
	spinTID atomic.Int64 // the spinning thread, 0 if none
)

// spin starts a thread that spins until stop is called.
func spin() (stop func()) {
	spinMu.Lock() // one spinner at a time
	var quit atomic.Bool
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // the thread exits with the goroutine: never reused
		defer close(done)
		spinTID.Store(int64(unix.Gettid()))
		close(started)
		for !quit.Load() {
		}
		spinTID.Store(0)
	}()
	<-started
	return func() {
		quit.Store(true)
		<-done
		spinMu.Unlock()
	}
}

// spinnerCPU returns the CPU time the spinning thread has used so far.
func spinnerCPU() time.Duration {
	tid := spinTID.Load()
	if tid == 0 {
		return 0
	}
	raw, err := os.ReadFile("/proc/self/task/" + strconv.FormatInt(tid, 10) + "/stat")
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // fields 14 and 15 of stat
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux.
const clockTicks = 100
