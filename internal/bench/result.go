package bench

import (
	"time"
)

// Result holds a run's figures. Rates are per second of the measured
// period; warm-up is never counted.
type Result struct {
	Mode  Mode `json:"mode"`
	Conns int  `json:"connections"`
	Size  int  `json:"size"`
	Depth int  `json:"depth"`
	// CPUCondition is the condition the figures were measured in.
	CPUCondition CPUCondition `json:"cpu_condition"`
	// MachineBusy is the share of all CPUs' time, 0 to 1, that was not idle
	// during the measured period, the bench included: near 1, other
	// programs competed with the server and the bench.
	MachineBusy float64       `json:"machine_busy"`
	Elapsed     time.Duration `json:"elapsed_ns"`

	Bytes      int64   `json:"bytes"`    // echo bytes received and verified
	Messages   int64   `json:"messages"` // pingpong: messages; connrate, idle: connections
	MiBPerSec  float64 `json:"mib_per_sec"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	// Latency is per message (pingpong) or per connection, from connect to
	// the server's FIN (connrate); nil for stream and idle.
	Latency *Latency `json:"latency,omitempty"`
	// CPU is the bench's own CPU time during the measured period.
	CPU CPUUse `json:"bench_cpu"`
	// Server is set in idle mode when the server's pid is known.
	Server *ServerUse `json:"server,omitempty"`
}

// CPUUse is CPU time used by the bench.
type CPUUse struct {
	User   time.Duration `json:"user_ns"`
	System time.Duration `json:"system_ns"`
	// Cores is (User+System)/Elapsed: 1.0 is one CPU busy for the whole
	// period. Near the machine's CPU count, the bench was the bottleneck.
	Cores float64 `json:"cores"`
}

// ServerUse is the server's footprint in idle mode: the server process and
// its descendants (a forking server's children), before the connections
// were opened (with one warm connection) and while they were held.
type ServerUse struct {
	PID             int     `json:"pid"`
	Processes       int     `json:"processes"`
	RSSBefore       int64   `json:"rss_before_bytes"`
	RSSHeld         int64   `json:"rss_held_bytes"`
	FDsBefore       int     `json:"fds_before"`
	FDsHeld         int     `json:"fds_held"`
	RSSPerConn      float64 `json:"rss_per_conn_bytes"`
	FDsPerConn      float64 `json:"fds_per_conn"`
	RSSAfterClose   int64   `json:"rss_after_close_bytes"`
	AfterCloseDelay string  `json:"after_close_delay"`
}

// finish derives the rates.
func (r *Result) finish() {
	if s := r.Elapsed.Seconds(); s > 0 {
		r.MiBPerSec = float64(r.Bytes) / (1 << 20) / s
		r.MsgsPerSec = float64(r.Messages) / s
		r.CPU.Cores = (r.CPU.User + r.CPU.System).Seconds() / s
	}
}

// window measures the period between its start and stop: elapsed time, the
// bench's CPU and the machine's busy share.
type window struct {
	start   time.Time
	cpu     CPUUse
	spun    time.Duration
	machine cpuTimes
}

func startWindow() *window {
	return &window{start: time.Now(), cpu: selfCPU(), spun: spinnerCPU(), machine: machineCPU()}
}

// stop records the period into r.
func (w *window) stop(r *Result) {
	r.Elapsed = time.Since(w.start)
	cpu := selfCPU()
	r.CPU.User = cpu.User - w.cpu.User
	r.CPU.System = cpu.System - w.cpu.System
	spun := spinnerCPU() - w.spun // the spinner is not the bench's load
	r.CPU.User -= min(max(spun, 0), r.CPU.User)
	m := machineCPU()
	if total := m.total - w.machine.total; total > 0 {
		r.MachineBusy = 1 - float64(m.idle-w.machine.idle)/float64(total)
	}
}
