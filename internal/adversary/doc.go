// Package adversary is the server side of client checking: a TCP server on
// 127.0.0.1 that plays one Behaviour on every connection it accepts (a
// prompt echo, an echo in 1-byte pieces, a late echo, an early close, a
// reset, silence...) and records what the client did: exactly the bytes it
// sent, when it half-closed or reset its connection, and whether it closed
// it at all before a deadline.
//
// Every connection is served by two goroutines: one reads everything the
// client sends and records it, the other plays the behaviour on what was
// read. So the server always reads while it writes, and a client that
// reads and writes at the same time can never deadlock against it; a
// bounded queue between the two keeps memory bounded and applies
// backpressure, so a client that writes everything before reading does
// deadlock, as it would against any echo server (Config.BufferSize bounds
// what the server side holds). The deadlock lasts until the stalled write
// reaches Config.IOTimeout: the server then stops writing (Record.WriteErr)
// and only reads, so the exchange still ends.
//
// Every read and write has a deadline, and Server.Close stops every
// connection and returns only when every goroutine of the server has
// returned.
package adversary
