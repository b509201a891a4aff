package impl_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/impl"
	"github.com/echoconf/echoconf/impl/echotest"
)

var _ = Describe("Server", func() {
	BeforeEach(checkLeaks)

	for _, m := range models {
		Describe(m.name, func() {
			// start runs a server with m's configuration changed by tweak.
			start := func(tweak func(*impl.Config)) *echotest.Server {
				GinkgoHelper()
				cfg := m.cfg
				if tweak != nil {
					tweak(&cfg)
				}
				srv := echotest.NewServerWith(cfg)
				DeferCleanup(func() {
					Expect(srv.Close()).To(Succeed())
					if cfg.Model == impl.ModelProcess {
						Expect(zombieChildren()).To(BeEmpty(), "every child is reaped")
					}
				})
				return srv
			}

			It("echoes all 256 byte values unchanged, then closes with a FIN", func() {
				srv := start(nil)
				c := dial(srv.Addr)
				all := make([]byte, 512)
				for i := range 256 {
					all[i], all[511-i] = byte(i), byte(i)
				}
				expectEcho(c, all)
				Expect(c.CloseWrite()).To(Succeed())
				expectEOF(c)
			})

			It("echoes each 1-byte write promptly", func() {
				srv := start(nil)
				c := dial(srv.Addr)
				for i := range 300 {
					expectEcho(c, []byte{byte(i * 7)})
				}
			})

			It("streams 64 MiB full-duplex unchanged", func() {
				srv := start(nil)
				Expect(duplex(dial(srv.Addr), 64, 64<<20, 128<<10)).To(Succeed())
			})

			It("echoes everything pending after a half-close, then sends a FIN", func() {
				srv := start(nil)
				c := dial(srv.Addr)
				msg := pattern(7, 60<<10) // fits the socket buffers, so it is all in flight at the FIN
				Expect(c.SetWriteDeadline(time.Now().Add(ioTimeout))).To(Succeed())
				_, err := c.Write(msg)
				Expect(err).NotTo(HaveOccurred())
				Expect(c.CloseWrite()).To(Succeed())
				Expect(readStream(c, 7, int64(len(msg)))).To(Succeed())
			})

			It("answers a half-close without data with a FIN", func() {
				srv := start(nil)
				c := dial(srv.Addr)
				Expect(c.CloseWrite()).To(Succeed())
				expectEOF(c)
			})

			It("gives each of 200 concurrent clients exactly its own bytes", func() {
				srv := start(nil)
				const clients, rounds, size = 200, 4, 2 << 10
				conns := make([]*net.TCPConn, clients)
				for i := range conns {
					conns[i] = dial(srv.Addr) // all open before any data flows
				}
				errs := make(chan error, clients)
				for i, c := range conns {
					go func() { errs <- roundsOn(c, uint64(1000+i), rounds, size) }()
				}
				for range clients {
					Expect(<-errs).To(Succeed())
				}
				Eventually(srv.ActiveConns, ioTimeout).Should(BeZero())
			})

			It("keeps serving others when clients reset mid-echo", func() {
				srv := start(nil)
				steady := dial(srv.Addr)
				expectEcho(steady, []byte("before"))
				const resetters = 8
				var wg sync.WaitGroup
				for i := range resetters {
					c := dial(srv.Addr)
					wg.Add(1)
					go func() {
						defer wg.Done()
						_ = c.SetDeadline(time.Now().Add(ioTimeout))
						// Send far more than the socket buffers hold without
						// reading, so the server is blocked writing its echo.
						wrote := make(chan struct{})
						go func() {
							defer close(wrote)
							_, _ = c.Write(pattern(uint64(i), 4<<20)) // fails once reset
						}()
						buf := make([]byte, 1024)
						_, _ = c.Read(buf) // the echo has started
						_ = c.SetLinger(0)
						_ = c.Close() // RST
						<-wrote
					}()
				}
				done := make(chan error, 1)
				go func() { done <- duplex(steady, 99, 8<<20, 32<<10) }()
				wg.Wait()
				Expect(<-done).To(Succeed())
				Eventually(srv.ActiveConns, ioTimeout).Should(BeZero())
				Expect(duplex(dial(srv.Addr), 100, 1<<20, 16<<10)).To(Succeed(), "a new client is served")
			})

			It("drains a connection in progress on Shutdown, accepting no new ones", func() {
				srv := start(nil)
				c := dial(srv.Addr)
				expectEcho(c, []byte("before shutdown"))
				stopped := make(chan error, 1)
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
					defer cancel()
					stopped <- srv.Shutdown(ctx)
				}()
				Eventually(func() error {
					nc, err := net.DialTimeout("tcp", srv.Addr, time.Second)
					if err == nil {
						nc.Close()
					}
					return err
				}, ioTimeout).Should(HaveOccurred(), "the listener closes")
				Consistently(stopped, 100*time.Millisecond).ShouldNot(Receive(), "Shutdown waits for the connection")
				expectEcho(c, pattern(3, 256<<10))
				Expect(c.CloseWrite()).To(Succeed())
				expectEOF(c)
				Eventually(stopped, ioTimeout).Should(Receive(BeNil()))
			})

			It("closes connections still open when the shutdown timeout expires", func() {
				srv := start(func(c *impl.Config) { c.ShutdownTimeout = 200 * time.Millisecond })
				c := dial(srv.Addr)
				expectEcho(c, []byte("idle from now on"))
				Expect(srv.Shutdown(context.Background())).To(MatchError(context.DeadlineExceeded))
				Expect(c.SetReadDeadline(time.Now().Add(ioTimeout))).To(Succeed())
				_, err := c.Read(make([]byte, 1))
				Expect(err).To(HaveOccurred())
				Expect(errors.Is(err, os.ErrDeadlineExceeded)).To(BeFalse(), "the connection was closed, not left open")
			})

			It("serves at most MaxConns connections; the next waits until one ends", func() {
				srv := start(func(c *impl.Config) { c.MaxConns = 2 })
				first, second := dial(srv.Addr), dial(srv.Addr)
				expectEcho(first, []byte("1"))
				expectEcho(second, []byte("2"))
				third := dial(srv.Addr) // the kernel completes the handshake
				Expect(third.SetDeadline(time.Now().Add(300 * time.Millisecond))).To(Succeed())
				_, err := third.Write([]byte("3"))
				Expect(err).NotTo(HaveOccurred())
				_, err = third.Read(make([]byte, 1))
				Expect(errors.Is(err, os.ErrDeadlineExceeded)).To(BeTrue(), "the third connection is not served yet: %v", err)
				Expect(srv.ActiveConns()).To(Equal(2))
				Expect(first.CloseWrite()).To(Succeed())
				expectEOF(first)
				Expect(third.SetDeadline(time.Now().Add(ioTimeout))).To(Succeed())
				got := make([]byte, 1)
				_, err = third.Read(got)
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(Equal([]byte("3")))
				Expect(srv.ActiveConns()).To(Equal(2))
			})

			It("closes a connection idle for IdleTimeout, and only an idle one", func() {
				const idle = 300 * time.Millisecond
				srv := start(func(c *impl.Config) { c.IdleTimeout = idle })
				silent := dial(srv.Addr) // never sends
				busy := dial(srv.Addr)
				began := time.Now()
				ticker := time.NewTicker(idle / 3)
				defer ticker.Stop()
				for i := range 6 { // 2 idle timeouts of traffic
					<-ticker.C
					expectEcho(busy, []byte{byte(i)})
				}
				lastEcho := time.Now()
				expectEOF(silent)
				Expect(time.Since(began)).To(BeNumerically(">=", idle))
				// Measured from busy's last echo: a process-model child that
				// started late on a busy machine delays silent's EOF, not busy's.
				expectEOF(busy)
				Expect(time.Since(lastEcho)).To(BeNumerically(">=", idle/2))
			})
		})
	}

	It("accepts nothing after Close and Close is idempotent", func() {
		srv, err := impl.NewServer(impl.Config{})
		Expect(err).NotTo(HaveOccurred())
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		c := dial(ln.Addr().String())
		expectEcho(c, []byte("x"))
		Expect(srv.Close()).To(Succeed())
		Expect(srv.Close()).To(Succeed())
		Expect(srv.Shutdown(context.Background())).To(Succeed())
		Eventually(served).Should(Receive(MatchError(impl.ErrServerClosed)))
		expectEOF(c)
		ln2, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		Expect(srv.Serve(ln2)).To(MatchError(impl.ErrServerClosed))
		_, err = net.DialTimeout("tcp", ln2.Addr().String(), time.Second)
		Expect(err).To(HaveOccurred(), "Serve closed the listener it was given")
	})

	It("backs off on EMFILE and ENFILE and then serves again", func() {
		real, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		ln := &failingListener{Listener: real, failures: []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.EMFILE}}
		srv, err := impl.NewServer(impl.Config{})
		Expect(err).NotTo(HaveOccurred())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		DeferCleanup(func() {
			Expect(srv.Close()).To(Succeed())
			Expect(<-served).To(MatchError(impl.ErrServerClosed))
		})
		c := dial(real.Addr().String())
		expectEcho(c, []byte("served after backoff"))
		Expect(ln.remaining()).To(BeZero())
	})

	It("stops accepting on an error retrying cannot cure", func() {
		real, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		ln := &failingListener{Listener: real, failures: []syscall.Errno{syscall.EINVAL}}
		srv, err := impl.NewServer(impl.Config{})
		Expect(err).NotTo(HaveOccurred())
		err = srv.Serve(ln)
		Expect(err).To(MatchError(syscall.EINVAL))
		Expect(err.Error()).To(HavePrefix("accept: "))
		Expect(srv.Close()).To(Succeed())
	})

	DescribeTable("NewServer rejects an invalid configuration",
		func(cfg impl.Config, want string) {
			_, err := impl.NewServer(cfg)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("unknown model", impl.Config{Model: "thread"}, `unknown model "thread"`),
		Entry("negative max conns", impl.Config{MaxConns: -1}, "max conns -1 is negative"),
		Entry("negative idle timeout", impl.Config{IdleTimeout: -time.Second}, "idle timeout -1s is negative"),
		Entry("negative shutdown timeout", impl.Config{ShutdownTimeout: -time.Second}, "shutdown timeout -1s is negative"),
		Entry("tiny buffer", impl.Config{BufferSize: 10}, "buffer size 10 is outside"),
	)

	It("refuses the process model when the program never calls RunChildIfRequested", func() {
		was := impl.SetChildHookCalled(false)
		defer impl.SetChildHookCalled(was)
		_, err := impl.NewServer(impl.Config{Model: impl.ModelProcess})
		Expect(err).To(MatchError(ContainSubstring("RunChildIfRequested")))
	})

	It("parses model names", func() {
		for _, m := range impl.Models() {
			Expect(impl.ParseModel(string(m))).To(Equal(m))
		}
		_, err := impl.ParseModel("fork")
		Expect(err).To(MatchError(`unknown model "fork" (want goroutine or process)`))
	})
})

// roundsOn sends rounds messages of size bytes of stream seed on c, each
// after the previous one's echo, then half-closes and expects EOF. It
// returns an error rather than failing, for use in goroutines.
func roundsOn(c *net.TCPConn, seed uint64, rounds, size int) error {
	if err := c.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		return err
	}
	want := pattern(seed, rounds*size)
	got := make([]byte, size)
	for r := range rounds {
		msg := want[r*size : (r+1)*size]
		if _, err := c.Write(msg); err != nil {
			return fmt.Errorf("client %d round %d: write: %w", seed, r, err)
		}
		if _, err := io.ReadFull(c, got); err != nil {
			return fmt.Errorf("client %d round %d: read: %w", seed, r, err)
		}
		if i := firstDiff(got, msg); i < size {
			return fmt.Errorf("client %d round %d: echo differs at offset %d", seed, r, r*size+i)
		}
	}
	if err := c.CloseWrite(); err != nil {
		return err
	}
	n, err := c.Read(got)
	if n != 0 || !errors.Is(err, io.EOF) {
		return fmt.Errorf("client %d: want EOF, got %d bytes and %v", seed, n, err)
	}
	return nil
}

// failingListener fails its first Accepts with the given errors.
type failingListener struct {
	net.Listener
	mu       sync.Mutex
	failures []syscall.Errno
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.failures) > 0 {
		errno := l.failures[0]
		l.failures = l.failures[1:]
		l.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func (l *failingListener) remaining() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.failures)
}

// zombieChildren lists this process's children in state Z.
func zombieChildren() []string {
	GinkgoHelper()
	entries, err := os.ReadDir("/proc")
	Expect(err).NotTo(HaveOccurred())
	me := strconv.Itoa(os.Getpid())
	var zombies []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) >= 2 && fields[1] == me && fields[0] == "Z" {
			zombies = append(zombies, e.Name())
		}
	}
	return zombies
}
