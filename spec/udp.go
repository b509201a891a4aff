package spec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// udpChecks is the udp category (RFC 862's datagram service), in catalogue
// order. Its checks need an Env whose Dial returns a connected UDP socket.
var udpChecks = []entry{
	udpEmptyDatagramCheck,
	udpSizesCheck,
	udpMaxDatagramCheck,
	udpAllByteValuesCheck,
	udpReplyToSenderCheck,
	udpBurstCheck,
	udpGoneClientCheck,
	udpServerAliveCheck,
}

// UDP returns the UDP catalogue in catalogue order. Each call returns a
// fresh slice.
func UDP() []Check {
	var all []Check
	for _, e := range udpChecks {
		c := e.Check
		c.Run = bind(c.ID, e.test)
		all = append(all, c)
	}
	return all
}

// CategoryUDP is the category of the UDP catalogue.
const CategoryUDP = "udp"

// Datagram limits.
const (
	// MaxDatagram is the largest UDP payload over IPv4: 65535 minus the
	// 20-byte IP and 8-byte UDP headers.
	MaxDatagram = 65507
	// udpTries is how many times one datagram is sent before its loss
	// counts: UDP may drop a datagram, but not three in a row on loopback.
	udpTries = 3
	// udpWait is how long, at scale 1, a send waits for its reply before
	// it is sent again.
	udpWait = time.Second
)

var udpEmptyDatagramCheck = entry{
	Check: Check{
		ID:          "udp/empty-datagram",
		Requirement: "A zero-length datagram is answered with one zero-length datagram.",
		Level:       Must,
		Timeout:     10 * time.Second,
		Network:     "udp",
	},
	test: udpEmptyDatagram,
}

// udpEmptyDatagram sends a datagram with no data.
func udpEmptyDatagram(ctx context.Context, p *probe) error {
	return asError(p.udpEcho(ctx, "", []byte{}))
}

// udpSizes are udp/sizes' datagram sizes: a byte, a classic buffer, the
// largest that fits an Ethernet frame, and a size above any small buffer.
var udpSizes = []int{1, 512, 1472, 8192}

var udpSizesCheck = entry{
	Check: Check{
		ID:          "udp/sizes",
		Requirement: "Datagrams of 1, 512, 1472 and 8192 bytes each come back as one identical datagram.",
		Level:       Must,
		Timeout:     15 * time.Second,
		Probe:       true,
		Network:     "udp",
	},
	test: udpSizesTest,
}

// udpSizesTest sends one datagram of each of udpSizes, each on its own
// socket, so that a late reply cannot be mistaken for the next one's.
func udpSizesTest(ctx context.Context, p *probe) error {
	for i, n := range udpSizes {
		if f := p.udpEcho(ctx, fmt.Sprintf("the %d-byte datagram", n), p.datagram(i, n)); f != nil {
			return f
		}
	}
	return nil
}

var udpMaxDatagramCheck = entry{
	Check: Check{
		ID:          "udp/max-datagram",
		Requirement: "A datagram of 65507 bytes, the IPv4 maximum, comes back whole.",
		Level:       Must,
		Timeout:     10 * time.Second,
		Network:     "udp",
	},
	test: udpMaxDatagram,
}

// udpMaxDatagram sends the largest datagram IPv4 carries.
func udpMaxDatagram(ctx context.Context, p *probe) error {
	return asError(p.udpEcho(ctx, "", p.datagram(0, MaxDatagram)))
}

var udpAllByteValuesCheck = entry{
	Check: Check{
		ID:          "udp/all-byte-values",
		Requirement: "Every byte value, NUL included, comes back unchanged.",
		Level:       Must,
		Timeout:     10 * time.Second,
		Network:     "udp",
	},
	test: udpAllByteValues,
}

// udpAllByteValues sends bytes 1 to 255, then 0 to 255: the first NUL
// sits at offset 255, so a server that stops at it answers with 255 bytes.
func udpAllByteValues(ctx context.Context, p *probe) error {
	b := make([]byte, 511)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return asError(p.udpEcho(ctx, "", b))
}

// udpEcho sends b on a fresh socket and judges the reply.
func (p *probe) udpEcho(ctx context.Context, label string, b []byte) *Failure {
	c, err := p.env.Dial(ctx)
	if err != nil {
		return p.dialFailure(ctx, label, err)
	}
	defer c.Close()
	got, f := p.udpRoundTrip(ctx, c, label, b)
	if f != nil {
		return f
	}
	return judgeDatagram(b, got, label)
}

// udpRoundTrip sends b on c and returns the first reply, sending b again,
// up to udpTries times in all, while none comes back within udpWait
// (scaled).
func (p *probe) udpRoundTrip(ctx context.Context, c net.Conn, label string, b []byte) ([]byte, *Failure) {
	buf := make([]byte, MaxDatagram+1)
	for try := 1; try <= udpTries; try++ {
		if _, err := c.Write(b); err != nil {
			return nil, udpIOFailure(label, len(b), "sending", err)
		}
		deadline := time.Now().Add(p.env.Scaled(udpWait))
		if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
			deadline = dl
		}
		if err := c.SetReadDeadline(deadline); err != nil {
			return nil, udpIOFailure(label, len(b), "waiting for the reply", err)
		}
		n, err := c.Read(buf)
		var ne net.Error
		switch {
		case err == nil:
			return buf[:n], nil
		case errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil:
			continue
		default:
			return nil, udpIOFailure(label, len(b), "waiting for the reply", err)
		}
	}
	return nil, &Failure{Kind: KindTimeout, Offset: -1, Ending: EventTimeout, Conn: label, Sent: int64(len(b)),
		Expected: fmt.Sprintf("a %d-byte datagram back", len(b)),
		Actual:   fmt.Sprintf("no reply to %d sends, %v apart", udpTries, p.env.Scaled(udpWait)),
		Detail: "the server never answered this datagram; " +
			"if it answers smaller ones, its buffer may be too small to receive it"}
}

// udpIOFailure explains a datagram send or receive that failed.
func udpIOFailure(label string, size int, doing string, err error) *Failure {
	f := &Failure{Kind: KindTimeout, Offset: -1, Ending: EventTimeout, Conn: label, Err: err,
		Expected: fmt.Sprintf("a %d-byte datagram back", size), Actual: doing + " failed: " + err.Error()}
	if errors.Is(err, syscall.ECONNREFUSED) {
		f.Kind, f.Ending = KindRefused, EventRefused
		f.Actual = "ICMP port unreachable: no socket takes datagrams from this client"
		f.Detail = "nothing is bound to the port, the server died, or its socket is connect()ed to another client"
	}
	return f
}

// udpWindow is how many bytes around the first difference a failure shows.
const udpWindow = 16

// judgeDatagram compares the reply got with the datagram sent.
func judgeDatagram(sent, got []byte, label string) *Failure {
	off := 0
	for off < len(sent) && off < len(got) && sent[off] == got[off] {
		off++
	}
	if off == len(sent) && off == len(got) {
		return nil
	}
	f := &Failure{Kind: KindWrongBytes, Offset: int64(off), Ending: EventNone, Conn: label,
		Sent: int64(len(sent)), Received: int64(len(got)),
		Expected: fmt.Sprintf("the same %d-byte datagram", len(sent)),
		Actual:   fmt.Sprintf("a %d-byte datagram", len(got))}
	start := max(0, off-udpWindow)
	f.WindowStart = int64(start)
	f.ExpectedWindow = sent[start:min(len(sent), off+udpWindow)]
	f.ActualWindow = got[start:min(len(got), off+udpWindow)]
	switch {
	case off == len(got) && sent[off] == 0:
		f.Diagnosis = DiagTruncated
		f.Detail = fmt.Sprintf("the reply stops at the first NUL byte (offset %d): the server treats the data "+
			"as a C string (strlen, printf %%s); send the length recvfrom returned", off)
	case off == len(got):
		f.Diagnosis = DiagTruncated
		f.Detail = fmt.Sprintf("the reply holds only the first %d bytes: the server's receive buffer is smaller "+
			"than the datagram, and recvfrom silently drops the rest; use a %d-byte buffer", off, MaxDatagram)
	case off == len(sent):
		f.Diagnosis = DiagExtra
		f.Kind = KindExtraBytes
		f.Detail = fmt.Sprintf("the reply has %d bytes more than the datagram: the server sends more than "+
			"recvfrom returned (sizeof buf, or a terminator)", len(got)-len(sent))
	default:
		f.Diagnosis = DiagAltered
		f.Detail = fmt.Sprintf("the reply differs from offset %d", off)
		if caseChanged(got[off:min(len(got), off+udpWindow)], sent[off:min(len(sent), off+udpWindow)]) {
			f.Detail = caseDetail(int64(off))
		}
	}
	return f
}

// datagram returns n bytes of payload i of this check.
func (p *probe) datagram(i, n int) []byte {
	b := make([]byte, n)
	p.payload(i, 1, int64(n)).fill(b, 0)
	return b
}
