// Package conformance runs the spec catalogue against a target echo server
// and reports the result.
//
// Run is the engine: it is independent of any test framework, never panics
// and never hangs (every check has a watchdog and the run has a deadline).
// Reporters in package conformance/report render a Report for people and
// tools; TestServer and CheckServer wrap Run for "go test".
package conformance
