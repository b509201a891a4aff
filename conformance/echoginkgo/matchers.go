package echoginkgo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// DefaultEchoTimeout bounds a whole EchoBack exchange unless Within says
// otherwise; payloads larger than 1 MiB get one more second per MiB.
const DefaultEchoTimeout = 5 * time.Second

// windowSize is how many bytes of each stream a failure shows, starting at
// the 16-byte line before the first difference.
const windowSize = 64

// EchoBackMatcher is the matcher EchoBack returns.
type EchoBackMatcher struct {
	payload []byte
	timeout time.Duration
	failure *spec.Failure
}

// EchoBack succeeds when the echo server sends payload back exactly.
//
// The actual value is a net.Conn, or a "HOST:PORT" string to dial (the
// matcher then closes its connection). The matcher writes payload while it
// reads, so payloads larger than the socket buffers cannot deadlock, with a
// deadline on every I/O (DefaultEchoTimeout, or Within). It reads exactly
// len(payload) bytes: bytes the server sends beyond them are not examined,
// and on a net.Conn they are left unread. The matcher clears the
// connection's deadlines before it returns.
//
// On failure the message never dumps the payload: it gives the kind of
// failure, the first differing offset, hex windows of the expected and
// received bytes around it, the byte counts, and what ended the exchange
// (EOF, reset, timeout).
func EchoBack(payload []byte) *EchoBackMatcher {
	return &EchoBackMatcher{payload: payload}
}

// Within replaces the deadline of the whole exchange and returns m.
func (m *EchoBackMatcher) Within(d time.Duration) *EchoBackMatcher {
	m.timeout = d
	return m
}

// Match performs the exchange. It returns an error only when actual is
// neither a net.Conn nor a string.
func (m *EchoBackMatcher) Match(actual any) (bool, error) {
	timeout := m.timeout
	if timeout <= 0 {
		timeout = DefaultEchoTimeout + time.Duration(len(m.payload)>>20)*time.Second
	}
	deadline := time.Now().Add(timeout)
	switch a := actual.(type) {
	case net.Conn:
		m.failure = exchange(a, m.payload, deadline)
	case string:
		d := net.Dialer{Deadline: deadline}
		conn, err := d.Dial("tcp", a)
		if err != nil {
			m.failure = &spec.Failure{
				Kind: spec.KindRefused, Expected: fmt.Sprintf("%d bytes", len(m.payload)),
				Actual: "no connection", Offset: -1, Ending: spec.EventRefused, Err: err,
			}
			break
		}
		m.failure = exchange(conn, m.payload, deadline)
		conn.Close()
	default:
		return false, fmt.Errorf("EchoBack expects a net.Conn or a \"HOST:PORT\" string, got %T", actual)
	}
	return m.failure == nil, nil
}

// FailureMessage explains how the echo differed from the payload.
func (m *EchoBackMatcher) FailureMessage(actual any) string {
	f := m.failure
	if f == nil {
		f = &spec.Failure{Offset: -1}
	}
	return fmt.Sprintf("Expected %s to echo back %d bytes\n%s", describe(actual), len(m.payload), f.Report())
}

// NegatedFailureMessage says that the server echoed the payload.
func (m *EchoBackMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected %s not to echo back %d bytes, but it did", describe(actual), len(m.payload))
}

// Failure returns the failure the last Match observed, or nil.
func (m *EchoBackMatcher) Failure() *spec.Failure { return m.failure }

var _ types.GomegaMatcher = (*EchoBackMatcher)(nil)

// describe names the actual value of a matcher.
func describe(actual any) string {
	switch a := actual.(type) {
	case net.Conn:
		if ra := a.RemoteAddr(); ra != nil && ra.Network() != "pipe" {
			return "the connection to " + ra.String()
		}
		return "the connection"
	case string:
		return "the server at " + a
	}
	return fmt.Sprintf("%T", actual)
}

// exchange writes payload on conn while reading len(payload) bytes back,
// until deadline, and returns nil when they are equal.
func exchange(conn net.Conn, payload []byte, deadline time.Time) *spec.Failure {
	if err := conn.SetDeadline(deadline); err != nil {
		return &spec.Failure{Kind: spec.KindRefused, Offset: -1, Actual: "an unusable connection", Err: err}
	}
	defer conn.SetDeadline(time.Time{}) //nolint:errcheck // best effort: the exchange is over

	var (
		wg      sync.WaitGroup
		sent    int
		sendErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for sent < len(payload) {
			end := min(sent+32<<10, len(payload))
			n, err := conn.Write(payload[sent:end])
			sent += n
			if err != nil {
				sendErr = err
				return
			}
		}
	}()

	got := make([]byte, len(payload))
	received, readErr := io.ReadFull(conn, got)
	if readErr != nil {
		// Unblock the writer: the exchange has ended.
		conn.SetWriteDeadline(time.Now()) //nolint:errcheck // best effort
	}
	wg.Wait()
	got = got[:received]

	offset := int64(-1)
	if i := firstDiff(payload[:received], got); i >= 0 {
		offset = int64(i)
	}
	if offset < 0 && readErr == nil {
		return nil
	}
	ending, kind := classify(readErr)
	if readErr == nil && sendErr != nil {
		ending, kind = classify(sendErr)
	}
	f := &spec.Failure{
		Kind:     kind,
		Expected: fmt.Sprintf("%d bytes", len(payload)),
		Actual:   fmt.Sprintf("%d bytes%s", received, endingSuffix(ending)),
		Sent:     int64(sent),
		Received: int64(received),
		Offset:   offset,
		Ending:   ending,
		Err:      readErr,
	}
	if offset >= 0 {
		f.Kind = spec.KindWrongBytes
		f.Diagnosis = spec.DiagAltered
		if bytes.Contains(payload, got[offset:min(int(offset)+16, received)]) {
			f.Diagnosis = spec.DiagNone // the bytes were sent, elsewhere: dropped or reordered
		}
		start := max(0, offset-offset%16-16)
		f.WindowStart = start
		f.ExpectedWindow = window(payload, start)
		f.ActualWindow = window(got, start)
		f.Err = nil
	} else if ending == spec.EventEOF {
		f.Diagnosis = spec.DiagTruncated
		f.Err = nil
	}
	return f
}

// firstDiff returns the first index where a and b differ, or -1; a and b
// have the same length.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// window returns up to windowSize bytes of b from start.
func window(b []byte, start int64) []byte {
	if start >= int64(len(b)) {
		return nil
	}
	return b[start:min(start+windowSize, int64(len(b)))]
}

// classify names what an I/O error says about the server.
func classify(err error) (spec.Event, spec.Kind) {
	switch {
	case err == nil:
		return spec.EventNone, spec.KindWrongBytes
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return spec.EventEOF, spec.KindEarlyEOF
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return spec.EventReset, spec.KindReset
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return spec.EventTimeout, spec.KindTimeout
	}
	return spec.EventNone, spec.KindEarlyEOF
}

// endingSuffix phrases an ending for Failure.Actual.
func endingSuffix(e spec.Event) string {
	switch e {
	case spec.EventEOF:
		return " then EOF"
	case spec.EventReset:
		return " then reset"
	case spec.EventTimeout:
		return " before the deadline"
	}
	return ""
}

// PassCheckMatcher is the matcher PassCheck returns.
type PassCheckMatcher struct {
	id     string
	opts   []conformance.Option
	result engine.Result
}

// PassCheck succeeds when the echo server at the actual "HOST:PORT" string
// satisfies the check with the given ID, run alone through engine.Run
// with opts. A violated SHOULD requirement fails the matcher too: asking
// about one check asks whether its requirement holds.
//
// Match returns an error when the ID names no check, the options are bad, or
// the check does not apply to an address (a process check).
func PassCheck(id string, opts ...conformance.Option) *PassCheckMatcher {
	return &PassCheckMatcher{id: id, opts: opts}
}

// Match runs the check.
func (m *PassCheckMatcher) Match(actual any) (bool, error) {
	addr, ok := actual.(string)
	if !ok {
		return false, fmt.Errorf("PassCheck expects a \"HOST:PORT\" string, got %T", actual)
	}
	o := engine.Apply(m.opts...)
	known := false
	checks := o.Checks
	if checks == nil {
		checks = spec.All()
	}
	for _, c := range checks {
		known = known || c.ID == m.id
	}
	if !known {
		return false, fmt.Errorf("PassCheck: no check has the ID %q", m.id)
	}
	res, err := runOne(context.Background(), addr, o, m.id)
	if err != nil {
		return false, fmt.Errorf("PassCheck: %w", err)
	}
	m.result = res
	if res.Status == engine.StatusSkip {
		return false, fmt.Errorf("PassCheck: %s does not apply to %s: %s", m.id, addr, res.SkipReason())
	}
	return res.Status == engine.StatusPass, nil
}

// FailureMessage gives the check's requirement and the diagnosis.
func (m *PassCheckMatcher) FailureMessage(actual any) string {
	return fmt.Sprintf("Expected %s to pass %s\n%s", describe(actual), m.id, (&conformance.CheckError{Result: m.result}).Error())
}

// NegatedFailureMessage says that the check passed.
func (m *PassCheckMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected %s not to pass %s (%s), but it did", describe(actual), m.id, m.result.Check.Requirement)
}

// Result returns the result of the last Match.
func (m *PassCheckMatcher) Result() engine.Result { return m.result }

var _ types.GomegaMatcher = (*PassCheckMatcher)(nil)
