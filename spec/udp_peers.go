package spec

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"time"
)

var udpReplyToSenderCheck = entry{
	Check: Check{
		ID: "udp/reply-to-sender",
		Requirement: "Each reply goes to the address and port its datagram came from: " +
			"two clients each get only their own replies.",
		Level:   Must,
		Timeout: 15 * time.Second,
		Network: "udp",
	},
	test: udpReplyToSender,
}

// udpRounds is how many datagrams each client of udp/reply-to-sender sends,
// taking turns.
const udpRounds = 3

// udpReplyToSender has two clients on two ports take turns, each waiting
// for its own reply before the other sends.
func udpReplyToSender(ctx context.Context, p *probe) error {
	var clients [2]net.Conn
	for i := range clients {
		c, err := p.env.Dial(ctx)
		if err != nil {
			return p.dialFailure(ctx, udpClientLabel(i), err)
		}
		defer c.Close()
		clients[i] = c
	}
	for r := range udpRounds {
		for i, c := range clients {
			label := fmt.Sprintf("%s, datagram %d", udpClientLabel(i), r+1)
			b := p.datagram(i*udpRounds+r, 200)
			got, f := p.udpRoundTrip(ctx, c, label, b)
			if f != nil {
				if i == 1 {
					f.Detail = "the second client got no reply while the first was served: the server may reply " +
						"to a fixed or remembered address, or have connect()ed its socket to the first client; " +
						"reply to the address recvfrom returns"
				}
				return f
			}
			if f := judgeDatagram(b, got, label); f != nil {
				if other := p.whoseDatagram(got, i, len(b)); other >= 0 {
					f.Diagnosis = DiagOtherClient
					f.Detail = fmt.Sprintf("this is the datagram of %s: the server replies to a fixed or remembered "+
						"address instead of each datagram's source; reply to the address recvfrom returns", udpClientLabel(other))
				}
				return f
			}
		}
	}
	return nil
}

// udpClientLabel names client i of two.
func udpClientLabel(i int) string { return fmt.Sprintf("client %d of 2", i+1) }

// whoseDatagram returns the client other than self whose size-byte
// datagram got is, whole, or -1.
func (p *probe) whoseDatagram(got []byte, self, size int) int {
	for i := range 2 {
		if i == self {
			continue
		}
		for r := range udpRounds {
			if bytes.Equal(got, p.datagram(i*udpRounds+r, size)) {
				return i
			}
		}
	}
	return -1
}

var udpGoneClientCheck = entry{
	Check: Check{
		ID:          "udp/gone-client",
		Requirement: "A client that closes its socket before the reply (ICMP port unreachable) does not stop the server.",
		Level:       Must,
		Timeout:     20 * time.Second,
		Schedule:    Disruptive,
		Network:     "udp",
	},
	test: udpGoneClient,
}

// udpGoneClients is how many clients of udp/gone-client leave before their
// reply.
const udpGoneClients = 3

// udpGoneClient sends datagrams from ports that take no reply, so the
// server's replies meet ICMP port unreachable, then checks that a fresh
// client is still served.
func udpGoneClient(ctx context.Context, p *probe) error {
	for i := range udpGoneClients {
		label := fmt.Sprintf("gone client %d", i+1)
		c, err := p.env.Dial(ctx)
		if err != nil {
			return p.dialFailure(ctx, label, err)
		}
		err = sendFromDeafPort(ctx, c, p.datagram(i, 100))
		if cerr := c.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return udpIOFailure(label, 100, "sending", err)
		}
	}
	// The server must meet the unreachable ports before the fresh client
	// probes it; a reply to each gone client is its stimulus, not a
	// synchronisation, so the pause is not scaled.
	t := time.NewTimer(200 * time.Millisecond)
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	fresh := "a fresh client, after 3 clients left before their reply"
	if f := p.udpEcho(ctx, fresh, p.datagram(udpGoneClients, 100)); f != nil {
		if f.Kind == KindTimeout || f.Kind == KindRefused {
			f.Detail = "the server stopped answering after replies to clients that had closed their sockets: " +
				"a sendto or recvfrom error (ECONNREFUSED) must not end its loop"
		}
		return f
	}
	return nil
}

var udpServerAliveCheck = entry{
	Check: Check{
		ID:          "udp/server-alive",
		Requirement: "The server process stays alive throughout the run.",
		Level:       Must,
		Timeout:     5 * time.Second,
		Needs:       NeedsProcess,
		Schedule:    Last,
		Network:     "udp",
	},
	test: robustnessServerAlive,
}
