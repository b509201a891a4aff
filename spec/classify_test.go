package spec_test

import (
	"bytes"
	"io"
	"os"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/spec"
)

// cat concatenates byte slices into a new one.
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var _ = Describe("diagnosing a difference", func() {
	const seed = 0x5eed
	const ours = 0x12300000
	p := spec.Generated(seed, ours, 1, 64<<10)
	s := spec.NewStream(p)
	e := s.Bytes(0, s.Len())
	other := payloadBytes(spec.Generated(seed, ours+1, 1, 4096))
	altered := bytes.Clone(e)
	for i := 1000; i < 1010; i++ {
		altered[i] ^= 0x5a
	}
	upper := bytes.Clone(e)
	for i, x := range upper {
		if x >= 'a' && x <= 'z' {
			upper[i] = x - 'a' + 'A'
		}
	}
	// scrambled keeps the tags (block headers) but changes every data
	// byte after offset 1000.
	scrambled := bytes.Clone(e)
	for i := 1000; i < len(scrambled); i++ {
		if i%256 >= 16 {
			scrambled[i] ^= 0x01
		}
	}

	// diagnoseReceived finds the first difference of received against the
	// stream and diagnoses it from up to 64 KiB of what follows.
	diagnoseReceived := func(st *spec.Stream, received []byte) (spec.Diagnosis, string) {
		want := st.Bytes(0, st.Len())
		d := 0
		for d < len(received) && d < len(want) && received[d] == want[d] {
			d++
		}
		Expect(d).To(BeNumerically("<", len(received)), "no difference")
		return spec.Diagnose(st, seed, int64(d), received[d:min(len(received), d+64<<10)])
	}

	DescribeTable("names what happened to the bytes",
		func(received func() []byte, st *spec.Stream, want spec.Diagnosis, detail string) {
			if st == nil {
				st = s
			}
			diag, det := diagnoseReceived(st, received())
			Expect(diag).To(Equal(want), det)
			Expect(det).To(ContainSubstring(detail))
		},
		Entry("a few bytes dropped", func() []byte { return cat(e[:1000], e[1003:]) }, nil, spec.DiagDropped, "3 bytes are missing at offset 1000"),
		Entry("a chunk dropped", func() []byte { return cat(e[:904], e[5000:]) }, nil, spec.DiagDropped, "4096 bytes are missing from offset 904"),
		Entry("a few bytes duplicated", func() []byte { return cat(e[:1000], e[990:]) }, nil, spec.DiagDuplicated, "came back twice"),
		Entry("a chunk duplicated", func() []byte { return cat(e[:8192], e[4096:]) }, nil, spec.DiagDuplicated, "at offset 8192 the bytes sent at offset 4096 came back again"),
		Entry("chunks reordered", func() []byte { return cat(e[:4096], e[8192:12288], e[4096:8192], e[12288:]) }, nil, spec.DiagReordered, "the bytes sent at offset 4096 came back at offset 8192"),
		Entry("bytes changed in place", func() []byte { return altered }, nil, spec.DiagAltered, "changed in place; the bytes after them are right"),
		Entry("letters upper-cased in a tagged stream", func() []byte { return upper }, nil, spec.DiagAltered, "letters came back in the other case"),
		Entry("every data byte changed, the tags kept", func() []byte { return scrambled }, nil, spec.DiagAltered, "though they keep its length"),
		Entry("a newline inserted", func() []byte { return cat(e[:1000], []byte("\n"), e[1000:]) }, nil, spec.DiagExtra, `added a line ending "\n"`),
		Entry("a line ending appended", func() []byte { return cat(e, []byte("\r\n")) }, nil, spec.DiagExtra, "after the complete echo"),
		Entry("the echo sent twice", func() []byte { return cat(e, e) }, nil, spec.DiagDuplicated, "after the complete echo"),
		Entry("another client's bytes", func() []byte { return cat(e[:2000], other) }, nil, spec.DiagOtherClient, "client 2 of this check"),
		Entry("letters upper-cased", func() []byte { return []byte("HELLO, ECHO!") },
			spec.NewStream(spec.Literal([]byte("hello, echo!"))), spec.DiagAltered, "other case"),
		Entry("CRLF for LF", func() []byte { return []byte("two\r\nlines\n") },
			spec.NewStream(spec.Literal([]byte("two\nlines\n"))), spec.DiagExtra, `"\r"`),
		Entry("CR dropped", func() []byte { return []byte("a line\n") },
			spec.NewStream(spec.Literal([]byte("a line\r\n"))), spec.DiagDropped, "1 bytes are missing at offset 6"),
		Entry("a NUL appended to a literal", func() []byte { return []byte("hi\x00") },
			spec.NewStream(spec.Literal([]byte("hi"))), spec.DiagExtra, "NUL"),
	)

	It("keeps the windows and counts of a Failure readable", func() {
		f := &spec.Failure{Kind: spec.KindWrongBytes, Diagnosis: spec.DiagAltered, Offset: 40, WindowStart: 8,
			ExpectedWindow: []byte("abcdefgh"), ActualWindow: []byte("abcdEfgh"), Expected: "x", Actual: "y"}
		Expect(f.Report()).To(ContainSubstring("expected from offset 8"))
	})
})

var _ = Describe("what ended an exchange", func() {
	DescribeTable("weighs the reader's ending against the writer's error",
		func(read spec.Event, readErr, writeErr error, want spec.Event) {
			Expect(spec.ExchangeEnding(read, readErr, writeErr)).To(Equal(want))
		},
		Entry("a reset the writer took, then EOF on the reader", spec.EventEOF, io.EOF, syscall.ECONNRESET, spec.EventReset),
		Entry("a FIN, then a reset: the writer gets EPIPE", spec.EventEOF, io.EOF, syscall.EPIPE, spec.EventEOF),
		Entry("a reset the reader took", spec.EventReset, syscall.ECONNRESET, nil, spec.EventReset),
		Entry("EPIPE while the reader still waits", spec.EventNone, nil, syscall.EPIPE, spec.EventReset),
		Entry("a write that timed out while the reader waited", spec.EventNone, nil, os.ErrDeadlineExceeded, spec.EventTimeout),
		Entry("a plain EOF", spec.EventEOF, io.EOF, nil, spec.EventEOF),
	)
})
