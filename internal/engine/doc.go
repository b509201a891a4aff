// Package engine runs spec checks against a target echo server and returns
// a Report: it selects checks, schedules them by their spec.Schedule, puts
// a watchdog on each, and maps what each check returns to a Status.
//
// It knows no check ID and imports neither testing nor Ginkgo; the
// adapters in package conformance wrap it. Run never panics because of a
// check and never hangs: every check has a watchdog and the run has a
// deadline.
package engine
