package adversary

import "time"

// End is how the client ended its side of a connection, as the server saw
// it.
type End int

// The ends of a client's side.
const (
	// EndNone: the client neither half-closed nor reset its connection
	// before the server stopped reading (at Config.ConnTimeout, at
	// Server.Close, or after the server reset the connection itself).
	EndNone End = iota
	// EndFIN: the client half-closed or closed (the server read EOF).
	EndFIN
	// EndRST: the client reset the connection (the server's read or
	// write failed with ECONNRESET or EPIPE before any EOF).
	EndRST
)

// String returns "fin", "rst" or "none".
func (e End) String() string {
	switch e {
	case EndFIN:
		return "fin"
	case EndRST:
		return "rst"
	default:
		return "none"
	}
}

// maxWrites bounds Record.Writes.
const maxWrites = 4096

// Record is what one connection saw. Durations are since the accept.
type Record struct {
	// ID numbers the server's connections from 1, in accept order.
	ID        int
	Behaviour Behaviour
	// Received holds the bytes the client sent, exactly and in order, up
	// to Config.MaxRecord of them; ReceivedLen counts them all.
	Received    []byte
	ReceivedLen int64
	// FirstByteAt is when the first byte arrived (0 when none did).
	FirstByteAt time.Duration
	// Sent counts the bytes the server wrote; Writes holds the size of
	// each write that wrote anything, the first 4096 of them.
	Sent   int64
	Writes []int
	// LastWriteAt is when the server's last write that wrote anything
	// returned (0 if none did).
	LastWriteAt time.Duration
	// ServerEnd and ServerEndAt say how and when the server ended its
	// side once its behaviour was done: EndFIN (its half-close), EndRST
	// (Reset), or EndNone if a write failed or a deadline or Close cut
	// the behaviour short, and always for Silent. Echo, Trickle, Delay
	// and Resplit end only after the client's own end (or ConnTimeout).
	ServerEnd   End
	ServerEndAt time.Duration
	// ClientEnd and ClientEndAt say how and when the client ended its
	// side: its FIN or RST, or EndNone if neither came before the server
	// stopped reading.
	ClientEnd   End
	ClientEndAt time.Duration
	// ReadErr and WriteErr are the errors other than EOF and the
	// client's reset that ended the server's reading or writing: a
	// deadline (os.ErrDeadlineExceeded), or the server's own Reset or
	// Close (net.ErrClosed).
	ReadErr, WriteErr error
	// Duration is how long the connection was served, from accept to
	// close (for Silent, to the client's end, when the record is
	// published).
	Duration time.Duration
}

// ClientClosed reports whether the client ended its side (FIN or RST)
// before the server stopped reading.
func (r Record) ClientClosed() bool { return r.ClientEnd != EndNone }
