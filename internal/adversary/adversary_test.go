package adversary_test

import (
	"crypto/rand"
	"errors"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/adversary"
)

var _ = Describe("the adversarial server", func() {
	msg := []byte("echoconf adversary 0123456789")

	It("echoes promptly, closes after the client's FIN, and records both ends", func() {
		s := listen(adversary.Config{Behaviour: adversary.Echo})
		c := dial(s)
		_, err := c.Write(msg)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.CloseWrite()).To(Succeed())
		got, _, err := readUntilEnd(c, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(msg))

		r := waitRecords(s, 1)[0]
		Expect(r.ID).To(Equal(1))
		Expect(r.Received).To(Equal(msg))
		Expect(r.ReceivedLen).To(BeEquivalentTo(len(msg)))
		Expect(r.Sent).To(BeEquivalentTo(len(msg)))
		Expect(r.ClientEnd).To(Equal(adversary.EndFIN))
		Expect(r.ClientClosed()).To(BeTrue())
		Expect(r.ServerEnd).To(Equal(adversary.EndFIN))
		Expect(r.ServerEndAt).To(BeNumerically(">=", r.ClientEndAt))
		Expect(r.LastWriteAt).To(BeNumerically(">=", r.FirstByteAt))
		Expect(r.ReadErr).NotTo(HaveOccurred())
		Expect(r.WriteErr).NotTo(HaveOccurred())
	})

	It("streams 8 MiB both ways at once to a client that reads while it writes", func() {
		s := listen(adversary.Config{Behaviour: adversary.Echo})
		c := dial(s)
		in := make([]byte, 8<<20)
		_, _ = rand.Read(in)
		written := make(chan error, 1)
		go func() {
			_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
			_, err := c.Write(in)
			if err == nil {
				err = c.CloseWrite()
			}
			written <- err
		}()
		got, _, err := readUntilEnd(c, 20*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Eventually(written).WithTimeout(5 * time.Second).Should(Receive(BeNil()))
		Expect(len(got)).To(Equal(len(in)))
		Expect(firstDiff(got, in)).To(Equal(-1), "the echo differs")
		r := waitRecords(s, 1)[0]
		Expect(r.ReceivedLen).To(BeEquivalentTo(len(in)))
		Expect(firstDiff(r.Received, in)).To(Equal(-1), "the record differs")
	})

	It("keeps only MaxRecord bytes of a connection but counts them all", func() {
		s := listen(adversary.Config{Behaviour: adversary.Echo, MaxRecord: 10})
		c := dial(s)
		_, err := c.Write(msg)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.CloseWrite()).To(Succeed())
		_, _, err = readUntilEnd(c, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		r := waitRecords(s, 1)[0]
		Expect(r.Received).To(Equal(msg[:10]))
		Expect(r.ReceivedLen).To(BeEquivalentTo(len(msg)))
	})

	It("trickles the echo one byte at a time, Pause apart", func() {
		pause := 15 * time.Millisecond
		s := listen(adversary.Config{Behaviour: adversary.Trickle, Pause: pause})
		c := dial(s)
		start := time.Now()
		_, err := c.Write(msg[:8])
		Expect(err).NotTo(HaveOccurred())
		Expect(c.CloseWrite()).To(Succeed())
		got, _, err := readUntilEnd(c, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(msg[:8]))
		Expect(time.Since(start)).To(BeNumerically(">=", 7*pause))
		r := waitRecords(s, 1)[0]
		Expect(r.Writes).To(Equal([]int{1, 1, 1, 1, 1, 1, 1, 1}))
	})

	It("delays every chunk's echo by Delay", func() {
		delay := 300 * time.Millisecond
		s := listen(adversary.Config{Behaviour: adversary.Delay, Delay: delay})
		c := dial(s)
		start := time.Now()
		_, err := c.Write(msg)
		Expect(err).NotTo(HaveOccurred())
		buf := make([]byte, len(msg))
		Expect(c.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
		_, err = c.Read(buf[:1])
		Expect(err).NotTo(HaveOccurred())
		Expect(time.Since(start)).To(BeNumerically(">=", delay))
		Expect(c.CloseWrite()).To(Succeed())
		rest, _, err := readUntilEnd(c, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(append(buf[:1], rest...)).To(Equal(msg))
	})

	It("resplits the echo into its own piece sizes, cycling across the connection", func() {
		s := listen(adversary.Config{Behaviour: adversary.Resplit, Pieces: []int{2, 3}, Pause: 5 * time.Millisecond})
		c := dial(s)
		_, err := c.Write(msg[:9])
		Expect(err).NotTo(HaveOccurred())
		Expect(c.CloseWrite()).To(Succeed())
		got, _, err := readUntilEnd(c, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(msg[:9]))
		Expect(waitRecords(s, 1)[0].Writes).To(Equal([]int{2, 3, 2, 2}))
	})

	DescribeTable("cuts at most MaxPieces pieces from a chunk, the last holding the rest",
		func(cfg adversary.Config, n int, writes []int) {
			cfg.Pause, cfg.MaxPieces = 5*time.Millisecond, 4
			s := listen(cfg)
			c := dial(s)
			_, err := c.Write(msg[:n])
			Expect(err).NotTo(HaveOccurred())
			Expect(c.CloseWrite()).To(Succeed())
			got, _, err := readUntilEnd(c, 5*time.Second)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(msg[:n]))
			Expect(waitRecords(s, 1)[0].Writes).To(Equal(writes))
		},
		Entry("trickle", adversary.Config{Behaviour: adversary.Trickle}, 10, []int{1, 1, 1, 7}),
		Entry("resplit", adversary.Config{Behaviour: adversary.Resplit, Pieces: []int{2, 3}}, 12, []int{2, 3, 2, 5}),
	)

	It("closes at once without a byte, and still records what the client sends", func() {
		s := listen(adversary.Config{Behaviour: adversary.CloseAtOnce})
		c := dial(s)
		got, _, err := readUntilEnd(c, 5*time.Second)
		Expect(err).NotTo(HaveOccurred(), "the client reads EOF")
		Expect(got).To(BeEmpty())
		_, err = c.Write(msg)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Close()).To(Succeed())
		r := waitRecords(s, 1)[0]
		Expect(r.Sent).To(BeZero())
		Expect(r.ServerEnd).To(Equal(adversary.EndFIN))
		Expect(r.Received).To(Equal(msg))
		Expect(r.ClientEnd).To(Equal(adversary.EndFIN))
		Expect(r.ClientEndAt).To(BeNumerically(">", r.ServerEndAt))
	})

	It("echoes the first half of the first chunk, then closes", func() {
		s := listen(adversary.Config{Behaviour: adversary.CloseHalf})
		c := dial(s)
		_, err := c.Write(msg[:10])
		Expect(err).NotTo(HaveOccurred())
		got, _, err := readUntilEnd(c, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(msg[:5]))
		Expect(c.Close()).To(Succeed())
		r := waitRecords(s, 1)[0]
		Expect(r.Sent).To(BeEquivalentTo(5))
		Expect(r.ServerEnd).To(Equal(adversary.EndFIN))
	})

	It("resets the connection after the first chunk", func() {
		s := listen(adversary.Config{Behaviour: adversary.Reset})
		c := dial(s)
		_, err := c.Write(msg)
		Expect(err).NotTo(HaveOccurred())
		got, _, err := readUntilEnd(c, 5*time.Second)
		Expect(errors.Is(err, syscall.ECONNRESET)).To(BeTrue(), "read ended by %v", err)
		Expect(got).To(BeEmpty())
		r := waitRecords(s, 1)[0]
		Expect(r.ServerEnd).To(Equal(adversary.EndRST))
		Expect(r.Received).To(Equal(msg))
		Expect(r.ClientEnd).To(Equal(adversary.EndNone), "the server cut the connection, not the client")
	})

	It("never answers, not even with a FIN after the client's, but records the bytes and the client's end at once", func() {
		s := listen(adversary.Config{Behaviour: adversary.Silent})
		c := dial(s)
		_, err := c.Write(msg)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.CloseWrite()).To(Succeed())
		r := waitRecords(s, 1)[0]
		Expect(r.Sent).To(BeZero())
		Expect(r.Received).To(Equal(msg))
		Expect(r.ClientEnd).To(Equal(adversary.EndFIN))
		Expect(r.ServerEnd).To(Equal(adversary.EndNone))
		_, _, err = readUntilEnd(c, 300*time.Millisecond)
		Expect(isTimeout(err)).To(BeTrue(), "read ended by %v, not by the deadline", err)
	})

	It("bounds what it holds with BufferSize: the echo to a client that does not read stalls, and the write gives up at IOTimeout", func() {
		s := listen(adversary.Config{Behaviour: adversary.Echo, BufferSize: 64 << 10, IOTimeout: 300 * time.Millisecond})
		c := dial(s)
		in := make([]byte, 16<<20)
		Expect(c.SetWriteDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
		_, err := c.Write(in) // never reading: completes only once the server gives up echoing and drains
		Expect(err).NotTo(HaveOccurred())
		Expect(c.CloseWrite()).To(Succeed())
		r := waitRecords(s, 1)[0]
		Expect(isTimeout(r.WriteErr)).To(BeTrue(), "WriteErr: %v", r.WriteErr)
		Expect(r.Sent).To(BeNumerically("<", 4<<20))
		Expect(r.ReceivedLen).To(BeEquivalentTo(len(in)), "it drained the rest")
	})

	It("records a client that resets", func() {
		s := listen(adversary.Config{Behaviour: adversary.Silent})
		c := dial(s)
		_, err := c.Write(msg)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.SetLinger(0)).To(Succeed())
		Expect(c.Close()).To(Succeed())
		r := waitRecords(s, 1)[0]
		Expect(r.ClientEnd).To(Equal(adversary.EndRST))
	})

	It("records a client that never closes as such, at ConnTimeout", func() {
		s := listen(adversary.Config{Behaviour: adversary.Echo, ConnTimeout: 300 * time.Millisecond})
		c := dial(s)
		_, err := c.Write(msg)
		Expect(err).NotTo(HaveOccurred())
		buf := make([]byte, len(msg))
		Expect(c.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
		_, err = c.Read(buf)
		Expect(err).NotTo(HaveOccurred())
		r := waitRecords(s, 1)[0]
		Expect(r.ClientClosed()).To(BeFalse())
		Expect(r.ClientEnd).To(Equal(adversary.EndNone))
		Expect(isTimeout(r.ReadErr)).To(BeTrue(), "ReadErr: %v", r.ReadErr)
		Expect(r.Duration).To(BeNumerically(">=", 300*time.Millisecond))
	})

	It("serves every connection alike, numbered in accept order", func() {
		s := listen(adversary.Config{Behaviour: adversary.Echo})
		for i := range 3 {
			c := dial(s)
			_, err := c.Write(msg)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.CloseWrite()).To(Succeed())
			got, _, err := readUntilEnd(c, 5*time.Second)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(msg))
			Expect(waitRecords(s, i+1)[i].ID).To(Equal(i + 1))
		}
		Expect(s.Records()).To(HaveLen(3))
	})

	It("Close cuts open connections, keeps their records, and leaves no goroutine", func() {
		s, err := adversary.Listen(adversary.Config{Behaviour: adversary.Trickle, Pause: time.Hour})
		Expect(err).NotTo(HaveOccurred())
		for range 3 {
			c := dial(s)
			_, err := c.Write(msg)
			Expect(err).NotTo(HaveOccurred())
		}
		Eventually(s.Accepted).WithTimeout(5 * time.Second).Should(Equal(3))
		// Each connection is paused for an hour after its first byte, or
		// waits for its first chunk.
		start := time.Now()
		Expect(s.Close()).To(Succeed())
		Expect(time.Since(start)).To(BeNumerically("<", 15*time.Second), "the pauses last an hour")
		Expect(s.Records()).To(HaveLen(3))
		Expect(s.Close()).To(Succeed(), "a second Close")
		// The suite's goleak check runs after this spec.
	})

	It("rejects an invalid configuration", func() {
		for _, cfg := range []adversary.Config{
			{Behaviour: adversary.Behaviour(99)},
			{Behaviour: adversary.Echo, Delay: -time.Second},
			{Behaviour: adversary.Resplit, Pieces: []int{3, 0}},
			{Behaviour: adversary.Echo, MaxRecord: -1},
		} {
			_, err := adversary.Listen(cfg)
			Expect(err).To(HaveOccurred(), "%+v", cfg)
		}
	})

	It("names every behaviour and parses the names back", func() {
		for _, b := range adversary.Behaviours() {
			p, err := adversary.ParseBehaviour(b.String())
			Expect(err).NotTo(HaveOccurred())
			Expect(p).To(Equal(b))
		}
		Expect(adversary.Behaviours()).To(HaveLen(8))
		_, err := adversary.ParseBehaviour("polite")
		Expect(err).To(MatchError(ContainSubstring(`unknown behaviour "polite"`)))
	})
})
