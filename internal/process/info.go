package process

// Info describes a server process: what it ran, how it ended and what it
// printed.
type Info struct {
	Command  string   // the command line, with the port substituted
	PID      int      // the first process's ID
	Restarts int      // how many times it was restarted (--restart)
	Exit     string   // how it ended, if it ended before the runner stopped it
	Output   string   // stdout and stderr, bounded (see OutputTruncated)
	Deaths   []string // "died during CHECK-ID: HOW", one per Death
	// OutputTruncated reports whether output beyond the bound was dropped.
	OutputTruncated bool
}
