package spec

import (
	"bytes"
	"fmt"
)

// MaxEchoStream is the length of an EchoStream: the block index of a
// generated payload is 32 bits wide.
const MaxEchoStream = int64(1<<32) * blockSize

// EchoStream is the expected echo of one connection of a load generator
// (echoconf bench): one generated payload, tagged with the seed and the
// connection like every payload of the checks, MaxEchoStream bytes long.
// Writers take consecutive slices of it with Fill; the reader compares
// what arrives with Verify, which diagnoses a difference exactly as the
// checks do. It holds no payload bytes. An EchoStream is not safe for
// concurrent use, but Fill and Verify only read it.
type EchoStream struct {
	want stream
	seed uint64
	id   uint32
	conn string
}

// NewEchoStream returns the stream of connection conn (numbered from 0) of
// a run with seed; label names the connection in a diagnosis ("client 3 of
// 64").
func NewEchoStream(seed uint64, conn uint32, label string) *EchoStream {
	e := &EchoStream{seed: seed, id: conn, conn: label}
	e.want.add(generated(seed, conn, 0, MaxEchoStream))
	return e
}

// Fill copies the stream's bytes [off, off+len(b)) into b.
func (e *EchoStream) Fill(b []byte, off int64) { e.want.fill(b, off) }

// Verify compares got, which arrived at stream offset off, with the
// stream, using scratch (at least len(got) bytes, or nil) for the expected
// bytes. It returns nil if they are equal, and otherwise the Failure the
// checks would report: the first differing offset, hex windows, and what
// happened to the bytes (dropped, duplicated, another client's...). sent is
// what the connection had sent so far; the diagnosis is best when got
// extends well past the difference.
func (e *EchoStream) Verify(got []byte, off, sent int64, scratch []byte) *Failure {
	if len(scratch) < len(got) {
		scratch = make([]byte, len(got))
	}
	exp := scratch[:len(got)]
	e.want.fill(exp, off)
	if bytes.Equal(exp, got) {
		return nil
	}
	i := int64(firstDiff(exp, got))
	d := off + i
	tail := got[i:]
	f := &Failure{
		Kind:        KindWrongBytes,
		Sent:        sent,
		Received:    off + int64(len(got)),
		Offset:      d,
		WindowStart: max(d-window, 0),
		Conn:        e.conn,
	}
	f.ExpectedWindow = e.want.bytesAt(f.WindowStart, d+window)
	f.ActualWindow = append(e.want.bytesAt(f.WindowStart, d), tail[:min(len(tail), window)]...)
	f.Diagnosis, f.Detail = diagnose(&e.want, e.seed, d, tail)
	if f.Diagnosis == DiagExtra {
		f.Kind = KindExtraBytes
	}
	f.Expected = fmt.Sprintf("%d bytes echoed unchanged", sent)
	f.Actual = fmt.Sprintf("byte 0x%02x instead of 0x%02x at offset %d", got[i], exp[i], d)
	return f
}

// Extra returns the Failure the checks report for got, bytes that arrived
// after the whole echo of the first sent bytes of the stream and before the
// server's FIN.
func (e *EchoStream) Extra(got []byte, sent int64) *Failure {
	var want stream // what was sent: the stream cut at sent
	want.add(generated(e.seed, e.id, 0, sent))
	f := &Failure{
		Kind:        KindExtraBytes,
		Sent:        sent,
		Received:    sent + int64(len(got)),
		Offset:      sent,
		WindowStart: max(sent-window, 0),
		Conn:        e.conn,
		Expected:    fmt.Sprintf("%d bytes echoed, then nothing more", sent),
		Actual:      fmt.Sprintf("%d extra bytes after them", len(got)),
	}
	f.ExpectedWindow = want.bytesAt(f.WindowStart, sent)
	f.ActualWindow = append(want.bytesAt(f.WindowStart, sent), got[:min(len(got), window)]...)
	f.Diagnosis, f.Detail = diagnose(&want, e.seed, sent, got)
	return f
}
