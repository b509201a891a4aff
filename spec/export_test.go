package spec

// This file exports internals to the spec_test package's unit tests only.

// Payload is the tagged payload generator.
type Payload = payload

// Stream is a connection's expected echo.
type Stream = stream

// Generated returns a generated payload.
var Generated = generated

// Literal returns a literal payload.
var Literal = literal

// BlockSize is the length of a tagged block.
const BlockSize = blockSize

// Fill copies the payload's bytes [off, off+len(b)) into b.
func (p payload) Fill(b []byte, off int64) { p.fill(b, off) }

// Tag is a decoded block header.
type Tag struct {
	Conn  uint32
	Round uint16
	Block uint32
	Pos   int
}

// FindTags returns every valid tag in b.
func FindTags(seed uint64, b []byte) []Tag {
	var out []Tag
	for _, t := range findTags(seed, b, 1<<20) {
		out = append(out, Tag{Conn: t.conn, Round: t.round, Block: t.block, Pos: t.pos})
	}
	return out
}

// NewStream returns the stream of the given payloads, in order.
func NewStream(ps ...payload) *stream {
	s := &stream{}
	for _, p := range ps {
		s.add(p)
	}
	return s
}

// Bytes returns the stream's bytes [from, to).
func (s *stream) Bytes(from, to int64) []byte { return s.bytesAt(from, to) }

// Diagnose names what happened at offset d given the received tail.
var Diagnose = diagnose

// ConnBase returns the connection-tag base of a check ID.
func ConnBase(id string) uint32 { return newProbe(id, &Env{}).base }

// FDSlack is how many more open files robustness/fd-stable allows.
const FDSlack = fdSlack

// SmallMessage is basic/small-message's payload.
var SmallMessage = smallMessage

// JudgeStdout runs the stdout judge of client/prints-echo on stdout, for a
// client of shape that was to print pieces.
func JudgeStdout(shape Shape, pieces [][]byte, stdout []byte) *Failure {
	return judgePrints(exchange{shape: shape, pieces: pieces}, &clientRun{out: &ClientOutput{Stdout: stdout, Exited: true}})
}

// ExchangeEnding is exchangeEnding.
var ExchangeEnding = exchangeEnding
