package echoginkgo

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/spec"
)

// DefaultEchoTimeout bounds a whole EchoBack exchange unless Within says
// otherwise; payloads larger than 1 MiB get one more second per MiB.
const DefaultEchoTimeout = 5 * time.Second

// EchoBackMatcher is the matcher EchoBack returns.
type EchoBackMatcher struct {
	payload []byte
	timeout time.Duration
	failure *spec.Failure
}

// EchoBack succeeds when the echo server sends payload back exactly.
//
// The actual value is a net.Conn, or a "HOST:PORT" string to dial (the
// matcher then closes its connection). The exchange is spec.Exchange: the
// matcher writes payload while it reads, so payloads larger than the socket
// buffers cannot deadlock, with a deadline on every I/O and on the whole
// exchange (DefaultEchoTimeout, or Within). After a correct echo, bytes the
// server sends beyond it are not examined, and on a net.Conn they are left
// unread. The matcher clears the connection's deadlines before it returns.
//
// On failure the message never dumps the payload: it gives the diagnosis
// the checks give for the same bytes (the kind of failure, what happened to
// the bytes, the first differing offset, hex windows around it, the byte
// counts, what ended the exchange and what to fix).
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
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	switch a := actual.(type) {
	case net.Conn:
		m.failure = spec.Exchange(ctx, a, m.payload)
	case string:
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", a)
		if err != nil {
			m.failure = &spec.Failure{
				Kind: spec.KindRefused, Expected: fmt.Sprintf("%d bytes", len(m.payload)),
				Actual: "no connection", Offset: -1, Ending: spec.EventRefused, Err: err,
			}
			break
		}
		m.failure = spec.Exchange(ctx, conn, m.payload)
		_ = conn.Close() // the matcher's own connection: the exchange is over
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
	res, err := runOne(context.Background(), engine.Target{Addr: addr}, o, m.id)
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
