package report_test

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance/report"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// updateGolden rewrites the golden files instead of comparing with them:
// go test ./conformance/report/ -args -update
var updateGolden = flag.Bool("update", false, "rewrite the golden files of the reporters")

// fixtureStart is the fixed start time of every fixture report, so that
// output is deterministic.
var fixtureStart = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// fixtureCheck returns catalogue-shaped check data for id (no Run: the
// reporters never run checks).
func fixtureCheck(id, requirement string, level spec.Level) spec.Check {
	return spec.Check{ID: id, Requirement: requirement, Level: level, Timeout: 10 * time.Second}
}

// newFixtureReport builds an exec-mode report with one result of every
// status, a flaky result, a server death and text that needs escaping in
// every format (markup, XML's forbidden control bytes, TAP's "#").
func newFixtureReport() *engine.Report {
	wrong := &spec.Failure{
		Kind: spec.KindWrongBytes, Diagnosis: spec.DiagAltered,
		Expected: "4096 bytes then EOF", Actual: "4096 bytes then EOF",
		Sent: 4096, Received: 4096, Offset: 17, WindowStart: 0,
		ExpectedWindow: []byte("hello, <echo> & \x00\x01 world #1"),
		ActualWindow:   []byte("hello, <echo> & \x00\x01 wOrld #1"),
		Ending:         spec.EventEOF,
		Detail:         `bytes changed in place: "]]>" and <script>alert(1)</script>`,
	}
	eof := &spec.Failure{
		Kind: spec.KindEarlyEOF, Diagnosis: spec.DiagTruncated,
		Expected: "1048576 bytes then EOF", Actual: "65536 bytes then EOF",
		Sent: 1048576, Received: 65536, Offset: -1, Ending: spec.EventEOF,
	}
	zombies := &spec.Failure{
		Kind: spec.KindHygiene, Expected: "0 zombies", Actual: "12 zombies", Offset: -1,
		Detail: "12 finished children were never reaped",
	}
	timeout := &spec.Failure{
		Kind: spec.KindTimeout, Expected: "an echo within 2s", Actual: "nothing", Sent: 64, Received: 0,
		Offset: -1, Ending: spec.EventTimeout, Conn: "client 2 of 2", Err: errors.New("i/o timeout"),
	}
	timeline := &engine.Timeline{
		Conns: 1, Written: 4096, Read: 4096, Omitted: 3,
		Head: []engine.ExchangeEvent{
			{At: 150 * time.Microsecond, Conn: 1, Op: "connect"},
			{At: 300 * time.Microsecond, Conn: 1, Op: "write", Bytes: 4096},
		},
		Tail: []engine.ExchangeEvent{
			{At: 2100 * time.Microsecond, Conn: 1, Op: "read", Bytes: 1024},
			{At: 2200 * time.Microsecond, Conn: 1, Op: "read", Bytes: 0, End: "eof (the server closed)"},
			{At: 2300 * time.Microsecond, Conn: 1, Op: "close"},
		},
	}
	return &engine.Report{
		Target:       "./server {port}",
		Exec:         true,
		Seed:         42,
		TimeoutScale: 2,
		Started:      fixtureStart,
		Duration:     12345 * time.Millisecond,
		Results: []engine.Result{
			{Check: fixtureCheck("basic/no-greeting", "The server sends nothing before it receives data.", spec.Must), Status: engine.StatusPass, Duration: 210 * time.Millisecond, Runs: 1},
			{Check: fixtureCheck("basic/small-message", "A small message comes back exactly.", spec.Must), Status: engine.StatusFail, Err: wrong, Duration: 3 * time.Millisecond, Runs: 1, Failures: 1, Timeline: timeline},
			{Check: fixtureCheck("large/1mib", "1 MiB streamed full-duplex comes back exactly.", spec.Must), Status: engine.StatusFail, Err: eof, Duration: 1500 * time.Millisecond, Runs: 3, Failures: 2, ServerDied: "signal: segmentation fault"},
			{Check: fixtureCheck("concurrency/idle-client", "A connected but idle client does not block another client.", spec.Must), Status: engine.StatusFail, Err: timeout, Duration: 2 * time.Second, Runs: 1, Failures: 1},
			{Check: fixtureCheck("robustness/no-zombies", "Finished connections leave no zombie child processes.", spec.Should), Status: engine.StatusWarn, Err: zombies, Duration: 800 * time.Millisecond, Runs: 1, Failures: 1},
			{Check: fixtureCheck("robustness/fd-stable", "The server's open file count does not grow with finished connections.", spec.Should), Status: engine.StatusSkip, Err: &spec.Skipped{Reason: "needs the server process (exec mode)"}},
			{Check: fixtureCheck("halfclose/no-data", "When the client half-closes without sending, the server closes its side with a FIN.", spec.Must), Status: engine.StatusError, Err: errors.New("dial: too many open files in the checker"), Duration: time.Millisecond, Runs: 1},
		},
		Server: &engine.ServerInfo{
			Command: "./server 40123", PID: 4242, Restarts: 1, Exit: "signal: segmentation fault",
			Output:          "listening on 40123\n<b>bold</b> & \x1b[31mred\x1b[0m \x00 done\n",
			Deaths:          []string{"died during large/1mib: signal: segmentation fault"},
			OutputTruncated: true,
		},
	}
}

// withUnjudged returns r with its skipped robustness/fd-stable turned into
// a check that could not be judged: the server timed out on its traffic.
func withUnjudged(r *engine.Report) *engine.Report {
	for i := range r.Results {
		if r.Results[i].Check.ID == "robustness/fd-stable" {
			r.Results[i].Status = engine.StatusUnjudged
			r.Results[i].Err = &spec.Failure{Kind: spec.KindTimeout, Offset: -1, Ending: spec.EventTimeout,
				Expected: "an echo within 3s", Actual: "nothing", Sent: 32, Detail: "could not complete the batch of connections this check measures"}
			r.Results[i].Duration, r.Results[i].Runs, r.Results[i].Failures = 3*time.Second, 1, 1
		}
	}
	return r
}

// newPassingReport is an address-mode report where every check passed.
func newPassingReport() *engine.Report {
	return &engine.Report{
		Target: "127.0.0.1:7007", Started: fixtureStart, Duration: 2 * time.Second,
		Results: []engine.Result{
			{Check: fixtureCheck("basic/no-greeting", "The server sends nothing before it receives data.", spec.Must), Status: engine.StatusPass, Duration: time.Second, Runs: 1},
			{Check: fixtureCheck("basic/small-message", "A small message comes back exactly.", spec.Must), Status: engine.StatusPass, Duration: time.Second, Runs: 1},
		},
	}
}

// fullCatalogueReport returns a report with one result per check of
// spec.All(), each with status pass except those given in statuses.
func fullCatalogueReport(strict bool, statuses map[string]engine.Status) *engine.Report {
	r := &engine.Report{Target: "127.0.0.1:7", Started: fixtureStart, Duration: time.Minute, Strict: strict}
	for _, c := range spec.All() {
		res := engine.Result{Check: c, Status: engine.StatusPass, Runs: 1}
		if s, ok := statuses[c.ID]; ok {
			res.Status = s
			switch s {
			case engine.StatusFail, engine.StatusWarn:
				res.Err = &spec.Failure{Kind: spec.KindHygiene, Offset: -1, Expected: "nothing leaked", Actual: "a leak"}
				res.Failures = 1
			case engine.StatusSkip:
				res.Err = &spec.Skipped{Reason: "not selected"}
			case engine.StatusError:
				res.Err = errors.New("could not run")
			}
		}
		r.Results = append(r.Results, res)
	}
	return r
}

// write renders r in the named format with o.
func write(format string, w io.Writer, r *engine.Report, o report.Options) error {
	f, err := report.Lookup(format)
	if err != nil {
		return err
	}
	return f.Write(w, r, o)
}

// expectGolden compares got with testdata/golden/name, or rewrites the file
// under -update.
func expectGolden(name string, got []byte) {
	GinkgoHelper()
	path := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
		Expect(os.WriteFile(path, got, 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "golden file missing: run go test ./conformance/report/ -args -update")
	Expect(string(got)).To(Equal(string(want)), "output differs from %s (rerun with -args -update after checking the change)", path)
}
