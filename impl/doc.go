// Package impl is the reference implementation of the Echo protocol (RFC
// 862): a TCP server library with two concurrency models and a client, and
// a UDP server and client.
//
// The server is the behaviour every other echo server is measured against:
//
//   - every byte received is sent back unchanged and in order, with nothing
//     added and nothing dropped;
//   - echo is prompt: each read is written back before the next read, so a
//     1-byte message returns without waiting for more input;
//   - when the client half-closes, everything pending is echoed and the
//     server then closes its side with a FIN, never an RST;
//   - a connection is not read from while its echo cannot be written, so a
//     client that stops reading holds at most one buffer of the server's
//     memory and slows nobody else;
//   - a client that resets or vanishes affects no other connection.
//
// Two models are available (Config.Model). ModelGoroutine serves each
// connection on its own goroutine with a pooled fixed-size buffer.
// ModelProcess serves each connection in a new OS process, as the classic
// fork server does: the server re-executes its own binary and passes the
// connection's file descriptor to the child. A program that uses
// ModelProcess must call RunChildIfRequested first thing in main (and in
// TestMain for tests), in the manner of the os/exec helper-process pattern.
//
// UDPServer and UDPClient are the same for UDP echo, RFC 862's second
// half: each datagram comes back once, unchanged, to its sender; the
// client sends one datagram at a time, with a timeout and bounded retries.
// ListenTCPAndUDP opens both protocols on one port, as inetd does.
//
// Package impl/echotest starts a server on a loopback port for tests, in the
// manner of net/http/httptest.
package impl
