package spec

import (
	"bytes"
	"encoding/binary"
	"sort"
)

// Generated payloads are a sequence of tagged blocks. Each block starts with
// a header that names the connection, the round and the block's index, and
// continues with bytes from a PRNG keyed by the seed and the header, so a
// payload never repeats and any byte can be regenerated from its offset
// alone: neither the writer nor the comparing reader holds a whole payload.
//
// Header layout (big-endian):
//
//	[0:2]   magic 0xE7 0xC0 (not ASCII, no letter, no line ending)
//	[2:6]   connection tag
//	[6:8]   round
//	[8:12]  block index within the payload
//	[12:16] check value derived from the seed and bytes [2:12]
const (
	blockSize  = 256
	headerSize = 16
	magic0     = 0xE7
	magic1     = 0xC0
)

// payload is one message a check sends: either generated (seeded and
// tagged) or a literal byte string for checks whose point is the exact
// bytes (all byte values, line endings).
type payload struct {
	seed  uint64
	conn  uint32
	round uint16
	size  int64
	lit   []byte
}

// generated returns the tagged payload of size bytes for a connection and
// round. Rounds wrap at 65536; checks use far fewer.
func generated(seed uint64, conn uint32, round int, size int64) payload {
	return payload{seed: seed, conn: conn, round: uint16(round), size: size}
}

// literal returns a payload made of exactly b. It carries no tags.
func literal(b []byte) payload {
	return payload{size: int64(len(b)), lit: b}
}

// Len returns the payload's length in bytes.
func (p payload) Len() int64 { return p.size }

// tagged reports whether the payload carries block tags.
func (p payload) tagged() bool { return p.lit == nil }

// fill copies the payload's bytes [off, off+len(b)) into b. The range must
// lie within the payload.
//
// fill and block are exempt from the race detector (go:norace): they are
// pure functions of their arguments writing into a buffer the caller owns,
// and instrumenting their byte stores dominates a run under -race.
//
//go:norace
func (p payload) fill(b []byte, off int64) {
	if p.lit != nil {
		copy(b, p.lit[off:])
		return
	}
	var blk [blockSize]byte
	for len(b) > 0 {
		idx := off / blockSize
		in := int(off % blockSize)
		if in == 0 && len(b) >= blockSize { // a whole block: generate it in place
			p.block(uint32(idx), (*[blockSize]byte)(b))
			b = b[blockSize:]
			off += blockSize
			continue
		}
		p.block(uint32(idx), &blk)
		n := copy(b, blk[in:])
		b = b[n:]
		off += int64(n)
	}
}

// block writes block idx of a generated payload into blk. The last block of
// a payload is cut short by fill, not here.
//
//go:norace
func (p payload) block(idx uint32, blk *[blockSize]byte) {
	blk[0], blk[1] = magic0, magic1
	binary.BigEndian.PutUint32(blk[2:6], p.conn)
	binary.BigEndian.PutUint16(blk[6:8], p.round)
	binary.BigEndian.PutUint32(blk[8:12], idx)
	h := tagHash(p.seed, p.conn, p.round, idx)
	binary.BigEndian.PutUint32(blk[12:16], uint32(h>>32))
	s := h
	for i := headerSize; i <= blockSize-8; i += 8 { // "<= -8" lets the compiler drop the bounds checks
		s += 0x9e3779b97f4a7c15
		binary.LittleEndian.PutUint64(blk[i:i+8], mix64(s))
	}
}

// mix64 is the splitmix64 finaliser: a cheap, well-distributed bijection.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// tagHash keys a block: its top half is the header's check value, and the
// whole value seeds the block's body.
func tagHash(seed uint64, conn uint32, round uint16, idx uint32) uint64 {
	return mix64(mix64(seed^(uint64(conn)<<16|uint64(round))) ^ uint64(idx) ^ 0x5bd1e9955bd1e995)
}

// tag identifies a block of a generated payload.
type tag struct {
	conn  uint32
	round uint16
	block uint32
}

// parseTag decodes a block header at the start of b. It reports false
// unless b holds a complete header whose check value matches the seed, so
// random bytes are mistaken for a header with probability about 2^-48.
func parseTag(seed uint64, b []byte) (tag, bool) {
	if len(b) < headerSize || b[0] != magic0 || b[1] != magic1 {
		return tag{}, false
	}
	t := tag{
		conn:  binary.BigEndian.Uint32(b[2:6]),
		round: binary.BigEndian.Uint16(b[6:8]),
		block: binary.BigEndian.Uint32(b[8:12]),
	}
	if binary.BigEndian.Uint32(b[12:16]) != uint32(tagHash(seed, t.conn, t.round, t.block)>>32) {
		return tag{}, false
	}
	return t, true
}

// tagAt is a tag found at position pos of a buffer.
type tagAt struct {
	pos int
	tag
}

// findTags returns up to max valid tags in b, in order of position.
func findTags(seed uint64, b []byte, max int) []tagAt {
	var out []tagAt
	for i := 0; i+headerSize <= len(b) && len(out) < max; {
		j := bytes.IndexByte(b[i:], magic0)
		if j < 0 {
			break
		}
		i += j
		if t, ok := parseTag(seed, b[i:]); ok {
			out = append(out, tagAt{pos: i, tag: t})
			i += headerSize
			continue
		}
		i++
	}
	return out
}

// stream is the expected echo of one connection: every payload written on
// it, in order. It stores payload descriptions, never their bytes.
type stream struct {
	segs []segment
	n    int64
}

// segment is a payload placed at a stream offset.
type segment struct {
	p     payload
	start int64
}

// add appends p to the stream.
func (s *stream) add(p payload) {
	s.segs = append(s.segs, segment{p: p, start: s.n})
	s.n += p.Len()
}

// Len returns the stream's length in bytes.
func (s *stream) Len() int64 { return s.n }

// truncate shortens the stream to n bytes, which must lie within its last
// payload.
func (s *stream) truncate(n int64) {
	if len(s.segs) == 0 || n >= s.n {
		return
	}
	last := &s.segs[len(s.segs)-1]
	if n < last.start {
		return
	}
	last.p.size = n - last.start
	s.n = n
}

// fill copies the stream's bytes [off, off+len(b)) into b; the range must lie
// within the stream.
func (s *stream) fill(b []byte, off int64) {
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].start+s.segs[i].p.Len() > off })
	for ; len(b) > 0 && i < len(s.segs); i++ {
		sg := s.segs[i]
		in := off - sg.start
		n := int64(len(b))
		if rest := sg.p.Len() - in; n > rest {
			n = rest
		}
		sg.p.fill(b[:n], in)
		b = b[n:]
		off += n
	}
}

// bytesAt returns a copy of the stream's bytes [from, to), clipped to the
// stream.
func (s *stream) bytesAt(from, to int64) []byte {
	if from < 0 {
		from = 0
	}
	if to > s.n {
		to = s.n
	}
	if to <= from {
		return nil
	}
	b := make([]byte, to-from)
	s.fill(b, from)
	return b
}

// locate returns the stream offset of the block that t names, when that
// block was written on this stream.
func (s *stream) locate(t tag) (int64, bool) {
	for _, sg := range s.segs {
		if !sg.p.tagged() || sg.p.conn != t.conn || sg.p.round != t.round {
			continue
		}
		off := int64(t.block) * blockSize
		if off < sg.p.Len() {
			return sg.start + off, true
		}
	}
	return 0, false
}
