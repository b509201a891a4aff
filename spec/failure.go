package spec

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Kind classifies how a check failed. Reports and graders key on it.
type Kind string

// The kinds of failure. Their string values are part of the JSON report.
const (
	KindRefused    Kind = "refused"     // the connection was refused or could not be made
	KindReset      Kind = "reset"       // the server reset the connection (RST)
	KindEarlyEOF   Kind = "early-eof"   // the server closed before echoing everything
	KindTimeout    Kind = "timeout"     // nothing (or not enough) arrived before the deadline
	KindWrongBytes Kind = "wrong-bytes" // bytes arrived that differ from what was sent
	KindExtraBytes Kind = "extra-bytes" // bytes arrived that were never sent
	KindNoEOF      Kind = "no-eof"      // everything was echoed, but the server (or the client under test) never closed
	KindServerDied Kind = "server-died" // the server process ended
	KindHygiene    Kind = "hygiene"     // the server leaked a resource (fds, zombies)
	KindSlow       Kind = "slow"        // the echo was right but slower than a SHOULD rate

	// The kinds of a client check's failure (the client catalogue).
	KindWrongOutput Kind = "wrong-output" // the client's stdout does not hold the echo, exactly and in order
	KindExitStatus  Kind = "exit-status"  // the client ended the wrong way: wrong status, no message, or not at all
	KindDeadlock    Kind = "deadlock"     // the client stopped reading the echo while it still wrote
)

// Event is what ended the exchange on the connection that failed.
type Event string

// The events that end an exchange.
const (
	EventNone    Event = ""        // nothing ended it (the check stopped it)
	EventEOF     Event = "eof"     // the server closed its side with a FIN
	EventReset   Event = "reset"   // the server reset the connection
	EventTimeout Event = "timeout" // the deadline passed
	EventRefused Event = "refused" // the connection could not be made
	EventExit    Event = "exit"    // the server process ended
)

// Diagnosis names what happened to the bytes, when the payload tags let the
// checker tell. It is empty when the bytes give no clue.
type Diagnosis string

// The diagnoses of a byte stream that differs from the expected one.
const (
	DiagNone        Diagnosis = ""
	DiagDropped     Diagnosis = "dropped"      // bytes are missing from the middle
	DiagDuplicated  Diagnosis = "duplicated"   // bytes came back more than once
	DiagReordered   Diagnosis = "reordered"    // the right bytes came back in the wrong order
	DiagAltered     Diagnosis = "altered"      // bytes were changed in place
	DiagTruncated   Diagnosis = "truncated"    // the echo stopped short of the end
	DiagExtra       Diagnosis = "extra"        // bytes were added that were never sent
	DiagOtherClient Diagnosis = "other-client" // the bytes belong to another connection
)

// Failure is a check's observation that the server (or, in the client
// catalogue, the client) violated its requirement.
// It is a value that reports render in every format; use errors.As to get it.
//
// Byte counts and windows describe the one connection that failed. Offset is
// -1 when no byte differed (a timeout or early EOF after correct bytes).
type Failure struct {
	Kind      Kind
	Diagnosis Diagnosis
	// Expected and Actual are short human sentences: "4096 bytes then EOF",
	// "1024 bytes then reset".
	Expected string
	Actual   string
	// Sent and Received count bytes on the failing connection.
	Sent     int64
	Received int64
	// Offset is the first differing offset in the echo stream, or -1.
	Offset int64
	// WindowStart is the stream offset of the first byte of both windows.
	WindowStart    int64
	ExpectedWindow []byte
	ActualWindow   []byte
	// Ending is what ended the exchange.
	Ending Event
	// Conn says which connection failed when a check uses several, such as
	// "client 17 of 100, round 3"; empty for single-connection checks.
	Conn string
	// Detail is free text that helps a student act on the failure.
	Detail string
	// Held counts the bytes that the server's program had read from the
	// failing connection and not echoed when the client stopped waiting
	// for them, with nothing else in flight either way: the server keeps
	// them rather than waiting on another client, which would not have
	// read them. It is set only on a timeout waiting for an echo, when the
	// server's socket is on this machine (Linux, exec mode or a local
	// address) and stayed so for heldQuiet; 0 otherwise.
	Held int64
	// Err is the underlying error, if any.
	Err error
}

// Error returns a one-line summary.
func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString(string(f.Kind))
	if f.Diagnosis != DiagNone {
		fmt.Fprintf(&b, " (%s)", f.Diagnosis)
	}
	if f.Conn != "" {
		fmt.Fprintf(&b, " on %s", f.Conn)
	}
	if f.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %d", f.Offset)
	}
	if f.Expected != "" || f.Actual != "" {
		fmt.Fprintf(&b, ": expected %s, got %s", f.Expected, f.Actual)
	}
	if f.Detail != "" {
		b.WriteString("; ")
		b.WriteString(f.Detail)
	}
	return b.String()
}

// asError returns f as an error: nil for a nil f, never a non-nil error
// holding a nil *Failure.
func asError(f *Failure) error {
	if f == nil {
		return nil
	}
	return f
}

// Unwrap returns the underlying error.
func (f *Failure) Unwrap() error { return f.Err }

// Report returns the multi-line diagnosis: the summary, byte counts, the
// ending event and, when bytes differ, hex windows of the expected and
// received bytes around the first differing offset.
func (f *Failure) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", f.Error())
	fmt.Fprintf(&b, "sent %d bytes, received %d bytes", f.Sent, f.Received)
	if f.Ending != EventNone {
		fmt.Fprintf(&b, ", ended by %s", f.Ending)
	}
	b.WriteString("\n")
	if f.Held > 0 {
		fmt.Fprintf(&b, "the server read every byte sent and held back %d of them\n", f.Held)
	}
	if f.Offset >= 0 && (len(f.ExpectedWindow) > 0 || len(f.ActualWindow) > 0) {
		fmt.Fprintf(&b, "expected from offset %d:\n%s", f.WindowStart, indent(hex.Dump(f.ExpectedWindow)))
		fmt.Fprintf(&b, "received from offset %d:\n%s", f.WindowStart, indent(hex.Dump(f.ActualWindow)))
	}
	if f.Err != nil {
		fmt.Fprintf(&b, "cause: %v\n", f.Err)
	}
	return b.String()
}

func indent(s string) string {
	if s == "" {
		return "  (nothing)\n"
	}
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			continue
		}
		b.WriteString("  ")
		b.WriteString(l)
	}
	return b.String()
}
