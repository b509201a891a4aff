package spec

import (
	"bytes"
	"os"
	"strconv"
)

// A progress deadline on a machine whose CPUs are saturated is no
// evidence against the server: it may simply not have run. When a wait
// for progress ends with nothing, and the machine's CPU pressure over the
// last 10 s (Linux PSI, /proc/pressure/cpu "some avg10": the share of time
// some runnable task waited for a CPU) is at least starvedPressure, the
// client waits up to maxGraces more idle periods before it judges. On a
// machine with CPU to spare, or without PSI, nothing changes.
const (
	starvedPressure = 50.0 // percent
	maxGraces       = 2
)

// pressureFile is read for the CPU pressure; tests may point it elsewhere.
var pressureFile = "/proc/pressure/cpu"

// cpuStarved reports whether the machine's CPUs have been saturated over
// the last 10 s.
func cpuStarved() bool {
	data, err := os.ReadFile(pressureFile)
	if err != nil {
		return false
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if !bytes.HasPrefix(line, []byte("some ")) {
		return false
	}
	for _, f := range bytes.Fields(line[len("some "):]) {
		if v, ok := bytes.CutPrefix(f, []byte("avg10=")); ok {
			p, err := strconv.ParseFloat(string(v), 64)
			return err == nil && p >= starvedPressure
		}
	}
	return false
}

// grace reports whether a wait that ended with no progress may be
// extended by another idle period, and counts it. Progress resets the
// count (see progressed).
func (c *echoConn) grace() bool {
	if c.graces >= maxGraces || !cpuStarved() {
		return false
	}
	c.graces++
	return true
}

// progressed records that the connection moved, so a later wait starts
// with all its graces.
func (c *echoConn) progressed() { c.graces = 0 }
