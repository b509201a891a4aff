package echoginkgo_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/conformance/echoginkgo"
	"github.com/echoconf/echoconf/impl/echotest"
	"github.com/echoconf/echoconf/spec"
)

// portRE matches loopback addresses, whose ports change from run to run.
var portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// expectGolden compares got with testdata/name.golden, after replacing
// ports with PORT, or rewrites the file when -update is given.
func expectGolden(name, got string) {
	GinkgoHelper()
	got = portRE.ReplaceAllString(got, "127.0.0.1:PORT")
	path := filepath.Join("testdata", name+".golden")
	if *update {
		Expect(os.WriteFile(path, []byte(got), 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "run with -args -update to create %s", path)
	Expect(got).To(Equal(string(want)), "the message differs from %s; rerun with -args -update if the change is intended", path)
}

var _ = Describe("EchoBack", func() {
	It("matches a correct echo server, by address and on a connection", func() {
		addr := startServer(echo)
		Expect(addr).To(echoginkgo.EchoBack([]byte("hello\n")))

		conn, err := net.Dial("tcp", addr)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(conn.Close)
		Expect(conn).To(echoginkgo.EchoBack(payload(1000)))
		Expect(conn).To(echoginkgo.EchoBack(payload(3)), "a second exchange on the same connection")
	})

	It("streams payloads larger than the socket buffers without deadlock", func() {
		Expect(startServer(echo)).To(echoginkgo.EchoBack(payload(8 << 20)))
	})

	It("leaves no deadline on the caller's connection", func() {
		conn, err := net.Dial("tcp", startServer(echo))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(conn.Close)
		Expect(conn).To(echoginkgo.EchoBack([]byte("x")).Within(50 * time.Millisecond))
		time.Sleep(60 * time.Millisecond) // outlive the exchange's deadline
		Expect(conn).To(echoginkgo.EchoBack([]byte("y")))
	})

	It("refuses actual values that are neither connections nor addresses", func() {
		_, err := echoginkgo.EchoBack([]byte("x")).Match(42)
		Expect(err).To(MatchError(ContainSubstring("got int")))
	})

	DescribeTable("failure messages",
		func(golden string, h handler, m *echoginkgo.EchoBackMatcher, kind spec.Kind) {
			addr := startServer(h)
			ok, err := m.Match(addr)
			Expect(err).NotTo(HaveOccurred())
			Expect(ok).To(BeFalse())
			Expect(m.Failure().Kind).To(Equal(kind))
			msg := m.FailureMessage(addr)
			Expect(len(msg)).To(BeNumerically("<", 2000), "never a dump of the payload")
			expectGolden(golden, msg)
		},
		Entry("a changed byte", "echoback-altered", alterAt(1000), echoginkgo.EchoBack(payload(4096)), spec.KindWrongBytes),
		Entry("a truncated echo", "echoback-truncated", readThen(4096, 100, closeNow), echoginkgo.EchoBack(payload(4096)), spec.KindEarlyEOF),
		Entry("a reset", "echoback-reset", readThen(4096, 0, resetNow), echoginkgo.EchoBack(payload(4096)), spec.KindReset),
		Entry("an upper-cased echo", "echoback-upcase", upcase, echoginkgo.EchoBack([]byte("Hello, echo server!\n")), spec.KindWrongBytes),
	)

	// The byte counts and rates of these depend on timing, so they have
	// no golden file.
	DescribeTable("failure messages that depend on timing",
		func(h handler, m *echoginkgo.EchoBackMatcher, kind spec.Kind, diag spec.Diagnosis, says string) {
			addr := startServer(h)
			Expect(m.Match(addr)).To(BeFalse())
			msg := m.FailureMessage(addr)
			Expect(m.Failure().Kind).To(Equal(kind), msg)
			Expect(m.Failure().Diagnosis).To(Equal(diag), msg)
			Expect(len(msg)).To(BeNumerically("<", 2000), "never a dump of the payload")
			Expect(msg).To(ContainSubstring(says))
		},
		Entry("a changed byte in a large payload", alterAt(3<<20+5), echoginkgo.EchoBack(payload(4<<20)),
			spec.KindWrongBytes, spec.DiagAltered, "1 bytes from offset 3145733 were changed in place"),
		Entry("a stalled echo", readThen(4096, 2048, stall), echoginkgo.EchoBack(payload(4096)).Within(300*time.Millisecond),
			spec.KindTimeout, spec.DiagNone, "got 2048 bytes when the check's time limit ran out"),
	)

	It("gives the diagnosis the checks give for the same server", func() {
		addr := startServer(upcase)
		m := echoginkgo.EchoBack(payload(4096))
		Expect(m.Match(addr)).To(BeFalse())
		Expect(m.Failure().Diagnosis).To(Equal(spec.DiagAltered))
		Expect(m.FailureMessage(addr)).To(ContainSubstring("letters came back in the other case from offset"))

		check := echoginkgo.PassCheck("basic/small-message")
		Expect(check.Match(addr)).To(BeFalse())
		f := check.Result().Failure()
		Expect(f.Diagnosis).To(Equal(m.Failure().Diagnosis))
		Expect(f.Detail).To(ContainSubstring("letters came back in the other case from offset"))
	})

	It("names an error it cannot classify as such, not as an early EOF", func() {
		client, server := net.Pipe()
		Expect(server.Close()).To(Succeed())
		DeferCleanup(client.Close)
		m := echoginkgo.EchoBack([]byte("hello"))
		Expect(m.Match(client)).To(BeFalse())
		Expect(m.Failure().Kind).NotTo(Equal(spec.KindEarlyEOF), m.FailureMessage(client))
		Expect(m.Failure().Err).To(MatchError(io.ErrClosedPipe))
	})

	It("explains a refused connection", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := l.Addr().String()
		l.Close()
		m := echoginkgo.EchoBack([]byte("hello"))
		Expect(m.Match(addr)).To(BeFalse())
		expectGolden("echoback-refused", m.FailureMessage(addr))
	})

	It("explains a wrong echo on a connection", func() {
		client, server := net.Pipe()
		DeferCleanup(client.Close)
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close()
			buf := make([]byte, 64)
			n, _ := server.Read(buf)
			buf[5] = 'X'
			server.Write(buf[:n])
		}()
		m := echoginkgo.EchoBack([]byte("hello, world"))
		Expect(m.Match(client)).To(BeFalse())
		Eventually(done).Should(BeClosed())
		expectGolden("echoback-conn", m.FailureMessage(client))
	})

	It("says so when an echo was not expected", func() {
		addr := startServer(echo)
		m := echoginkgo.EchoBack([]byte("hello"))
		Expect(m.Match(addr)).To(BeTrue())
		expectGolden("echoback-negated", m.NegatedFailureMessage(addr))
	})
})

// upcase echoes every letter in upper case, as a server that calls
// toupper() on what it reads does.
func upcase(conn *net.TCPConn, _ <-chan struct{}) {
	conn.SetDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		for i, b := range buf[:n] {
			if 'a' <= b && b <= 'z' {
				buf[i] = b - 'a' + 'A'
			}
		}
		if _, werr := conn.Write(buf[:n]); werr != nil || err != nil {
			return
		}
	}
}

var _ = Describe("PassCheck", func() {
	It("matches a server that satisfies the check", func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		Expect(srv.Addr).To(echoginkgo.PassCheck("halfclose/small-pending"))
		Expect(srv.Addr).To(echoginkgo.PassCheck("basic/small-message", conformance.WithTimeoutScale(2)))
	})

	It("explains a violated requirement", func() {
		addr := startServer(echoWithoutFIN)
		m := echoginkgo.PassCheck("halfclose/small-pending")
		Expect(m.Match(addr)).To(BeFalse())
		Expect(m.Result().Failure().Kind).To(Equal(spec.KindNoEOF))
		expectGolden("passcheck-no-fin", m.FailureMessage(addr))
	})

	It("says so when the check was expected to fail", func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		m := echoginkgo.PassCheck("basic/small-message")
		Expect(m.Match(srv.Addr)).To(BeTrue())
		expectGolden("passcheck-negated", m.NegatedFailureMessage(srv.Addr))
	})

	It("returns an error for a check that does not apply to an address", func() {
		srv := echotest.NewServer()
		DeferCleanup(srv.Close)
		_, err := echoginkgo.PassCheck("robustness/no-zombies").Match(srv.Addr)
		Expect(err).To(MatchError(ContainSubstring("robustness/no-zombies does not apply to " + srv.Addr)))
	})

	DescribeTable("returns an error when it cannot answer",
		func(id string, actual any, want string) {
			_, err := echoginkgo.PassCheck(id).Match(actual)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("an unknown ID", "basic/nosuch", "127.0.0.1:1", `no check has the ID "basic/nosuch"`),
		Entry("an actual value that is not an address", "basic/small-message", 42, "got int"),
	)
})
