package spec_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/spec"
)

// clientRows pins the data of every client check, as goldenRows does for
// the server catalogue.
var clientRows = []catalogueRow{
	{"client/sends-exact", spec.Must, 27 * time.Second, "The client sends exactly the message it was given: every byte, and nothing more (no NUL terminator, no unused buffer).",
		spec.Together, spec.NeedsClient, "", false},
	{"client/prints-echo", spec.Must, 27 * time.Second, "The client prints the echo it receives, exactly and in order; text around it is allowed.",
		spec.Together, spec.NeedsClient, "", false},
	{"client/exit-status", spec.Must, 27 * time.Second, "The client exits with status 0 after a complete exchange.",
		spec.Together, spec.NeedsClient, "", false},
	{"client/closes-connection", spec.Must, 27 * time.Second, "The client closes its connection within 3 s of receiving the whole echo.",
		spec.Together, spec.NeedsClient, "", false},
	{"client/short-reads", spec.Must, 28 * time.Second, "The client keeps reading until it has the whole echo, even when the echo arrives one byte at a time.",
		spec.Together, spec.NeedsClient, "", false},
	{"client/delayed-echo", spec.Must, 29 * time.Second, "The client waits for an echo that comes 1.5 s late, and prints it whole.",
		spec.Together, spec.NeedsClient, "", false},
	{"client/resplit-echo", spec.Must, 27 * time.Second, "The client prints the echo whole, however the server splits it into pieces.",
		spec.Together, spec.NeedsClient, "", false},
	{"client/close-at-once", spec.Must, 26 * time.Second, "When the server closes the connection before echoing anything, the client exits with a non-zero status and a message on stderr.",
		spec.Together, spec.NeedsClient, "", false},
	{"client/close-half", spec.Must, 26 * time.Second, "When the server closes the connection after echoing half the message, the client exits with a non-zero status and a message on stderr.",
		spec.Together, spec.NeedsClient, "", false},
	{"client/reset", spec.Must, 26 * time.Second, "When the server resets the connection, the client exits with a non-zero status and a message on stderr.",
		spec.Together, spec.NeedsClient, "", false},
	{"client/gives-up", spec.Should, 30 * time.Second, "When the server never answers, the client gives up within 10 s, with a non-zero status and a message on stderr.",
		spec.Together, spec.NeedsClient, spec.KindExitStatus, false},
	{"client/no-spin", spec.Should, 26 * time.Second, "After the server closed the connection, the client does not spin on the CPU (runnable at most half of the time).",
		spec.Together, spec.NeedsClient, spec.KindHygiene, false},
	{"client/large-stream", spec.Must, 100 * time.Second, "A stream client reads the echo while it writes, so that 8 MiB of input pass through it without deadlock.",
		spec.Together, spec.NeedsClient, "", false},
}

// fakeClient is a client written in Go, run in this process: it gets the
// server's address and the input, and returns its stdout, stderr and exit
// status. It must honour ctx, which ends at the run's limit (a client
// still running then is "killed").
type fakeClient struct {
	shape spec.Shape
	run   func(ctx context.Context, addr string, in spec.ClientInput) (stdout, stderr string, code int)
}

func (f fakeClient) Shape() spec.Shape { return f.shape }

func (f fakeClient) Run(ctx context.Context, host, port string, in spec.ClientInput) (*spec.ClientOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, in.Limit)
	defer cancel()
	start := time.Now()
	stdout, stderr, code := f.run(ctx, net.JoinHostPort(host, port), in)
	out := &spec.ClientOutput{Stdout: []byte(stdout), Stderr: []byte(stderr), Exited: ctx.Err() == nil,
		ExitCode: code, Exit: "exit status", Duration: time.Since(start)}
	if !out.Exited {
		out.ExitCode, out.Exit, out.Killed = -1, "signal: killed", "no exit within the limit"
	}
	return out, nil
}

// giveUp is how long the fake clients wait for the server.
const giveUp = 3 * time.Second

// clientFault is one fault a fake client can have.
type clientFault int

const (
	faultNone      clientFault = iota
	faultSendsNUL              // sends strlen+1 bytes
	faultReadsOnce             // one read, whatever it returns
	faultExitZero              // exits 0, silently, on any error
	faultNoClose               // reads until the server closes, which never happens
)

// argumentClient is the textbook argument client, with fault.
func argumentClient(fault clientFault) fakeClient {
	return fakeClient{shape: spec.ShapeArgument, run: func(ctx context.Context, addr string, in spec.ClientInput) (string, string, int) {
		fail := func(msg string) (string, string, int) {
			if fault == faultExitZero {
				return "", "", 0
			}
			return "", msg + "\n", 1
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return fail("connect: " + err.Error())
		}
		defer conn.Close()
		stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
		defer stop()
		msg := []byte(in.Message)
		if fault == faultSendsNUL {
			msg = append(msg, 0)
		}
		_ = conn.SetDeadline(time.Now().Add(giveUp))
		if _, err := conn.Write(msg); err != nil {
			return fail("send: " + err.Error())
		}
		if fault == faultNoClose {
			// It waits for the server's close, long after the echo.
			_ = conn.SetReadDeadline(time.Now().Add(2 * giveUp))
		}
		got := make([]byte, 0, len(in.Message))
		// printf("%s") stops at a NUL.
		printed := func() string { return "Received: " + string(bytes.TrimRight(got, "\x00")) + "\n" }
		buf := make([]byte, 64)
	read:
		for len(got) < len(in.Message) || fault == faultNoClose {
			n, err := conn.Read(buf)
			got = append(got, buf[:n]...)
			switch {
			case err == nil && fault != faultReadsOnce:
			case err == nil, fault == faultNoClose && errors.Is(err, io.EOF), fault == faultReadsOnce && n > 0:
				break read
			case fault == faultNoClose:
				// It prints as it reads.
				_, stderr, code := fail("recv: " + err.Error())
				return printed(), stderr, code
			default:
				return fail("recv: " + err.Error())
			}
		}
		return printed(), "", 0
	}}
}

// streamClient copies its input to the server while it copies the echo to
// stdout, half-closes at the end of its input, and fails when the server
// closes before echoing everything.
func streamClient() fakeClient {
	return fakeClient{shape: spec.ShapeStream, run: func(ctx context.Context, addr string, in spec.ClientInput) (string, string, int) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return "", "connect: " + err.Error() + "\n", 1
		}
		tc := conn.(*net.TCPConn)
		defer tc.Close()
		stop := context.AfterFunc(ctx, func() { _ = tc.Close() })
		defer stop()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = tc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := tc.Write(in.Stdin); err == nil {
				_ = tc.CloseWrite()
			}
		}()
		var out bytes.Buffer
		buf := make([]byte, 64<<10)
		var rerr error
		for {
			_ = tc.SetReadDeadline(time.Now().Add(giveUp))
			n, err := tc.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				rerr = err
				break
			}
		}
		_ = tc.Close()
		wg.Wait()
		if !errors.Is(rerr, io.EOF) || out.Len() < len(in.Stdin) {
			return out.String(), "the echo ended early\n", 1
		}
		return out.String(), "", 0
	}}
}

// statuses runs every client check against client, all at once, and
// returns each check's outcome: pass, skip, fail (a MUST failure), warn
// (a SHOULD one) or the error.
func statuses(client spec.ClientRunner) map[string]string {
	checks := spec.Clients()
	out := make([]string, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
			defer cancel()
			err := c.Run(ctx, &spec.Env{Seed: 7, Client: client})
			var f *spec.Failure
			var s *spec.Skipped
			switch {
			case err == nil:
				out[i] = "pass"
			case errors.As(err, &s):
				out[i] = "skip"
			case errors.As(err, &f) && c.Level == spec.Must:
				out[i] = "fail"
			case errors.As(err, &f):
				out[i] = "warn"
			default:
				out[i] = "error: " + err.Error()
			}
		}()
	}
	wg.Wait()
	m := make(map[string]string, len(checks))
	for i, c := range checks {
		m[c.ID] = out[i]
	}
	return m
}

var _ = Describe("the client catalogue", func() {
	It("has exactly the agreed data for every check", func() {
		var rows []catalogueRow
		for _, c := range spec.Clients() {
			Expect(c.Category()).To(Equal(spec.CategoryClient))
			rows = append(rows, catalogueRow{c.ID, c.Level, c.Timeout, c.Requirement, c.Schedule, c.Needs, c.Measures, c.Probe})
		}
		Expect(cmp.Diff(clientRows, rows)).To(BeEmpty())
		large, ok := spec.Lookup("client/large-stream")
		Expect(ok).To(BeTrue(), "Lookup finds client checks")
		Expect(large.Shapes).To(Equal([]spec.Shape{spec.ShapeStream}))
	})

	It("reports a missing Env.Client as an error, not a panic", func() {
		Expect(spec.Clients()[0].Run(context.Background(), &spec.Env{})).To(MatchError(ContainSubstring("no Env.Client")))
	})

	It("judges a client by what it sent, printed and did", func() {
		cases := []struct {
			name       string
			client     fakeClient
			fail, warn []string
		}{
			{"a correct argument client", argumentClient(faultNone), nil, nil},
			{"a correct stream client", streamClient(), nil, nil},
			{"a client that sends the NUL terminator", argumentClient(faultSendsNUL), []string{"client/sends-exact"}, nil},
			{"a client that reads once", argumentClient(faultReadsOnce),
				[]string{"client/short-reads", "client/resplit-echo", "client/close-half"}, nil},
			{"a client that exits 0 on every error", argumentClient(faultExitZero),
				[]string{"client/close-at-once", "client/close-half", "client/reset"}, []string{"client/gives-up"}},
			{"a client that waits for the server to close", argumentClient(faultNoClose),
				[]string{"client/exit-status", "client/closes-connection", "client/close-at-once", "client/close-half"}, nil},
		}
		// The clients run at once: each run mostly waits (a silent server,
		// a late echo).
		diffs := make([]string, len(cases))
		var wg sync.WaitGroup
		for i, tc := range cases {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				want := make(map[string]string)
				for _, c := range spec.Clients() {
					want[c.ID] = "pass"
					if !c.AppliesTo(tc.client.shape) {
						want[c.ID] = "skip"
					}
				}
				for _, id := range tc.fail {
					want[id] = "fail"
				}
				for _, id := range tc.warn {
					want[id] = "warn"
				}
				if d := cmp.Diff(want, statuses(tc.client)); d != "" {
					diffs[i] = tc.name + " (-want +got):\n" + d
				}
			}()
		}
		wg.Wait()
		for _, d := range diffs {
			Expect(d).To(BeEmpty())
		}
	})

	It("says what a NUL terminator is, with the bytes", func() {
		err := spec.Clients()[0].Run(context.Background(), &spec.Env{Seed: 7, Client: argumentClient(faultSendsNUL)})
		var f *spec.Failure
		Expect(errors.As(err, &f)).To(BeTrue(), "got %v", err)
		Expect(f.Kind).To(Equal(spec.KindWrongBytes))
		Expect(f.Diagnosis).To(Equal(spec.DiagExtra))
		Expect(f.Offset).To(Equal(int64(20)))
		Expect(f.ActualWindow).To(HaveSuffix("\x00"))
		Expect(f.Detail).To(ContainSubstring("strlen+1"))
	})
})

var _ = Describe("client/prints-echo's judge", func() {
	arg := [][]byte{[]byte("echo0123456789abcdef")}
	lines := [][]byte{[]byte("0123456789abcdef0123456789\n"), []byte("fedcba9876\n"), []byte("abcdef\n")}
	stream := [][]byte{[]byte("0123456789\nabcdef\n")}

	DescribeTable("judges stdout",
		func(shape spec.Shape, pieces [][]byte, stdout string, want string) {
			f := spec.JudgeStdout(shape, pieces, []byte(stdout))
			if want == "" {
				Expect(f).To(BeNil())
				return
			}
			Expect(f).NotTo(BeNil())
			Expect(f.Kind).To(Equal(spec.KindWrongOutput))
			Expect(f.Error()).To(ContainSubstring(want))
		},
		Entry("the bare echo", spec.ShapeArgument, arg, "echo0123456789abcdef", ""),
		Entry("decorated, on its own line", spec.ShapeArgument, arg, "Connected.\nReceived: echo0123456789abcdef\r\nBye\n", ""),
		Entry("a missing byte", spec.ShapeArgument, arg, "Received: echo0123456789abcde\n", "whole and in order"),
		Entry("garbage after the echo", spec.ShapeArgument, arg, "Received: echo0123456789abcdef\x7f\x01\n", "bytes after the echo on its line"),
		Entry("non-text decoration", spec.ShapeArgument, arg, "\x00Received: echo0123456789abcdef\n", "non-text bytes"),
		Entry("the echo printed twice", spec.ShapeArgument, arg, "echo0123456789abcdef\nagain: echo0123456789abcdef\n", "bytes of the messages outside their echo"),
		Entry("every line, with prompts", spec.ShapeInteractive, lines, "> 0123456789abcdef0123456789\n> fedcba9876\n> abcdef\n", ""),
		Entry("lines out of order", spec.ShapeInteractive, lines, "0123456789abcdef0123456789\nabcdef\nfedcba9876\n", "message 3 of 3"),
		Entry("the stale tail of a longer line", spec.ShapeInteractive, lines, "0123456789abcdef0123456789\nfedcba9876\n0123456789\nabcdef\n", "bytes of the messages outside their echo"),
		Entry("a stream, exactly", spec.ShapeStream, stream, "0123456789\nabcdef\n", ""),
		Entry("a stream, decorated", spec.ShapeStream, stream, "echo: 0123456789\nabcdef\n", "differing from byte 0"),
		Entry("a stream, cut short", spec.ShapeStream, stream, "0123456789\n", "differing from byte 11"),
	)
})
