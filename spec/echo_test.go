package spec_test

import (
	"bytes"
	"context"
	"net"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/spec"
)

// dialFake connects to s; the connection is closed when the spec ends.
func dialFake(s *fakeServer) net.Conn {
	GinkgoHelper()
	conn, err := net.DialTimeout("tcp", s.ln.Addr().String(), 5*time.Second)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(conn.Close)
	return conn
}

// diagnosis is what a failure says about the bytes, whoever observed them.
type diagnosis struct {
	Kind                         spec.Kind
	Diagnosis                    spec.Diagnosis
	Expected, Actual, Detail     string
	Offset, WindowStart          int64
	ExpectedWindow, ActualWindow []byte
	Ending                       spec.Event
}

func diagnosisOf(f *spec.Failure) diagnosis {
	return diagnosis{f.Kind, f.Diagnosis, f.Expected, f.Actual, f.Detail,
		f.Offset, f.WindowStart, f.ExpectedWindow, f.ActualWindow, f.Ending}
}

var _ = Describe("Exchange", func() {
	It("returns nil for an exact echo, on the same connection again and again", func() {
		conn := dialFake(startFake(echoChunky))
		for _, n := range []int{1, 76, 4096, 100_003} {
			Expect(spec.Exchange(context.Background(), conn, bytes.Repeat([]byte("ab\x00"), n))).To(BeNil(), "%d bytes", 3*n)
		}
	})

	It("writes while it reads, so an echo larger than the socket buffers cannot deadlock", func() {
		conn := dialFake(startFake(echoCorrect))
		big := make([]byte, 16<<20)
		for i := range big {
			big[i] = byte(i % 251)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		Expect(spec.Exchange(ctx, conn, big)).To(BeNil())
	})

	It("leaves the connection open and without a deadline", func() {
		conn := dialFake(startFake(echoCorrect))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		Expect(spec.Exchange(ctx, conn, []byte("x"))).To(BeNil())
		cancel()
		<-ctx.Done()
		Expect(spec.Exchange(context.Background(), conn, []byte("y"))).To(BeNil())
	})

	DescribeTable("diagnoses a faulty echo exactly as basic/small-message does",
		func(handler func(*fakeServer, net.Conn)) {
			s := startFake(handler)
			c, _ := spec.Lookup("basic/small-message")
			want := failureOf(c.Run(context.Background(), s.env(1)))
			got := spec.Exchange(context.Background(), dialFake(s), spec.SmallMessage)
			Expect(got).NotTo(BeNil())
			Expect(cmp.Diff(diagnosisOf(want), diagnosisOf(got))).To(BeEmpty(), got.Report())
		},
		Entry("upper-casing", echoUpper),
		Entry("a greeting", echoGreeting),
	)

	DescribeTable("says what went wrong",
		func(handler func(*fakeServer, net.Conn), payload []byte, kind spec.Kind, diag spec.Diagnosis, detail string) {
			f := spec.Exchange(context.Background(), dialFake(startFake(handler)), payload)
			Expect(f).NotTo(BeNil())
			Expect(f.Kind).To(Equal(kind), f.Report())
			Expect(f.Diagnosis).To(Equal(diag), f.Report())
			Expect(f.Detail).To(ContainSubstring(detail), f.Report())
		},
		Entry("upper-casing", echoToupper, []byte("hello, world"), spec.KindWrongBytes, spec.DiagAltered,
			"letters came back in the other case"),
		Entry("stopping at NUL", echoCString, []byte("one\x00two"), spec.KindTimeout, spec.DiagTruncated,
			"first NUL byte (offset 3)"),
		Entry("reading lines", echoLines, []byte("no newline"), spec.KindTimeout, spec.DiagNone,
			"until the client sent a newline"),
		Entry("closing after one read", echoCloseAfterOne, bytes.Repeat([]byte("z"), 1<<20), spec.KindEarlyEOF,
			spec.DiagTruncated, "the server closed the connection after echoing"),
	)

	It("stops when ctx ends, with a timeout failure", func() {
		conn := dialFake(startFake(silent))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		f := spec.Exchange(ctx, conn, make([]byte, 1<<20))
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
		Expect(f).NotTo(BeNil())
		Expect(f.Kind).To(Equal(spec.KindTimeout), f.Report())
	})
})
