package spec_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/spec"
)

func payloadBytes(p spec.Payload) []byte {
	b := make([]byte, p.Len())
	p.Fill(b, 0)
	return b
}

var _ = Describe("the payload generator", func() {
	const seed = 0x5eed

	It("is deterministic for a seed, connection and round", func() {
		a := payloadBytes(spec.Generated(seed, 7, 3, 10_000))
		b := payloadBytes(spec.Generated(seed, 7, 3, 10_000))
		Expect(bytes.Equal(a, b)).To(BeTrue())
		for _, other := range []spec.Payload{spec.Generated(seed+1, 7, 3, 10_000), spec.Generated(seed, 8, 3, 10_000), spec.Generated(seed, 7, 4, 10_000)} {
			Expect(bytes.Equal(a, payloadBytes(other))).To(BeFalse())
		}
	})

	It("regenerates any range from its offset alone", func() {
		p := spec.Generated(seed, 1, 1, 1<<20+77)
		whole := payloadBytes(p)
		r := rand.New(rand.NewPCG(1, 2))
		for range 500 {
			off := r.Int64N(p.Len())
			n := r.Int64N(min(p.Len()-off, 70_000)) + 1
			b := make([]byte, n)
			p.Fill(b, off)
			Expect(bytes.Equal(b, whole[off:off+n])).To(BeTrue(), "range %d+%d", off, n)
		}
	})

	It("does not repeat itself", func() {
		b := payloadBytes(spec.Generated(seed, 1, 1, 4<<20))
		seen := map[string]int{}
		for off := 0; off+64 <= len(b); off += spec.BlockSize {
			// 48 bytes of each block's body: distinct across the payload.
			k := string(b[off+16 : off+64])
			if at, dup := seen[k]; dup {
				Fail(fmt.Sprintf("the block at %d repeats the one at %d", off, at))
			}
			seen[k] = off
		}
	})

	It("tags every block with its connection, round and index", func() {
		p := spec.Generated(seed, 0xABC00042, 9, 100*spec.BlockSize+17)
		tags := spec.FindTags(seed, payloadBytes(p))
		Expect(tags).To(HaveLen(101))
		for i, t := range tags {
			Expect(t).To(Equal(spec.Tag{Conn: 0xABC00042, Round: 9, Block: uint32(i), Pos: i * spec.BlockSize}))
		}
	})

	It("finds tags at any position, and none in random bytes or under another seed", func() {
		b := append([]byte("xyz"), payloadBytes(spec.Generated(seed, 5, 1, 600))...)
		tags := spec.FindTags(seed, b)
		Expect(tags).To(HaveLen(3))
		Expect(tags[1].Pos).To(Equal(3 + spec.BlockSize))
		Expect(spec.FindTags(seed+1, b)).To(BeEmpty())
		noise := make([]byte, 1<<20)
		r := rand.New(rand.NewPCG(3, 4))
		for i := range noise {
			noise[i] = byte(r.Uint32())
			if i%1000 == 0 {
				noise[i] = 0xE7 // the magic's first byte, often
			}
		}
		Expect(spec.FindTags(seed, noise)).To(BeEmpty())
	})

	It("sends literal payloads exactly", func() {
		lit := []byte("a\x00b\r\n")
		Expect(payloadBytes(spec.Literal(lit))).To(Equal(lit))
		Expect(spec.FindTags(seed, lit)).To(BeEmpty())
	})

	It("concatenates payloads into a connection's stream", func() {
		a, b := spec.Generated(seed, 1, 1, 1000), spec.Literal([]byte("hello"))
		s := spec.NewStream(a, b, spec.Generated(seed, 1, 2, 300))
		want := append(append(payloadBytes(a), "hello"...), payloadBytes(spec.Generated(seed, 1, 2, 300))...)
		Expect(s.Len()).To(Equal(int64(len(want))))
		Expect(s.Bytes(0, s.Len())).To(Equal(want))
		Expect(s.Bytes(998, 1007)).To(Equal(want[998:1007]))
	})
})
