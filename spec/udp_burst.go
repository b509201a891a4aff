package spec

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// udp/burst's shape: burstSockets sockets send burstPerSocket datagrams
// each, at most burstInFlight unanswered at a time per socket.
const (
	burstSockets   = 20
	burstPerSocket = 50
	burstInFlight  = 4
	// burstMaxLoss is the documented bound: on loopback, a correct server
	// loses no more than 1% of the datagrams once each was sent udpTries
	// times.
	burstMaxLoss = 0.01
	// burstHeader is the datagram's socket and sequence number.
	burstHeader = 8
)

var udpBurstCheck = entry{
	Check: Check{
		ID: "udp/burst",
		Requirement: "1000 datagrams from 20 sockets at once each come back unchanged, to their own socket, " +
			"never merged, split or duplicated; after retries, at most 1% are lost.",
		Level:   Must,
		Timeout: 30 * time.Second,
		Network: "udp",
	},
	test: udpBurst,
}

// burstTally is what one socket of udp/burst saw.
type burstTally struct {
	sends, lost int
	fail        *Failure
}

// udpBurst runs burstSockets sockets at once and sums what they saw.
func udpBurst(ctx context.Context, p *probe) error {
	tallies := make([]burstTally, burstSockets)
	var wg sync.WaitGroup
	for i := range burstSockets {
		c, err := p.env.Dial(ctx)
		if err != nil {
			wg.Wait()
			return p.dialFailure(ctx, fmt.Sprintf("socket %d of %d", i+1, burstSockets), err)
		}
		wg.Go(func() {
			defer c.Close()
			tallies[i] = p.burstSocket(ctx, c, i)
		})
	}
	wg.Wait()
	sends, lost := 0, 0
	var silent *Failure
	for _, t := range tallies {
		switch {
		case t.fail != nil && t.fail.Kind != KindTimeout:
			return t.fail // what came back wrong says more than what did not come
		case t.fail != nil && silent == nil:
			silent = t.fail
		}
		sends += t.sends
		lost += t.lost
	}
	if silent != nil {
		return silent
	}
	total := burstSockets * burstPerSocket
	if float64(lost) > burstMaxLoss*float64(total) {
		return &Failure{Kind: KindTimeout, Offset: -1, Ending: EventTimeout,
			Expected: fmt.Sprintf("at most %.0f%% of %d datagrams lost after %d tries each", burstMaxLoss*100, total, udpTries),
			Actual:   fmt.Sprintf("%d lost (%.1f%%), %d sends in all", lost, 100*float64(lost)/float64(total), sends),
			Detail:   "on loopback a correct server loses almost nothing: a slow loop or a small receive buffer drops bursts"}
	}
	return nil
}

// burstSocket sends socket i's datagrams, burstInFlight at a time, each up
// to udpTries times, and checks every reply.
func (p *probe) burstSocket(ctx context.Context, c net.Conn, i int) burstTally {
	label := fmt.Sprintf("socket %d of %d", i+1, burstSockets)
	var t burstTally
	tries := make([]int, burstPerSocket)
	answered := make([]bool, burstPerSocket)
	buf := make([]byte, MaxDatagram+1)
	next := 0 // the first datagram not yet sent
	anyAnswer := false
	pending := map[int]bool{}
	for round := 0; round < burstPerSocket*udpTries && (next < burstPerSocket || len(pending) > 0); round++ {
		for next < burstPerSocket && len(pending) < burstInFlight {
			pending[next] = true
			next++
		}
		for seq := range pending {
			if tries[seq] == udpTries {
				if !anyAnswer {
					t.fail = &Failure{Kind: KindTimeout, Offset: -1, Ending: EventTimeout, Conn: label, Sent: int64(t.sends),
						Expected: "replies to this socket's datagrams",
						Actual:   fmt.Sprintf("no reply to any of its first %d datagrams, each sent %d times", burstInFlight, udpTries),
						Detail:   "the server answered none of this socket's datagrams"}
					return t
				}
				delete(pending, seq)
				t.lost++
				continue
			}
			tries[seq]++
			t.sends++
			b := p.burstDatagram(i, seq)
			if _, err := c.Write(b); err != nil {
				t.fail = udpIOFailure(label, len(b), "sending", err)
				return t
			}
		}
		if err := c.SetReadDeadline(time.Now().Add(p.env.Scaled(udpWait))); err != nil {
			t.fail = udpIOFailure(label, 0, "waiting for replies", err)
			return t
		}
		for len(pending) > 0 {
			n, err := c.Read(buf)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				break // resend what is still pending
			}
			if err != nil {
				t.fail = udpIOFailure(label, 0, "waiting for replies", err)
				return t
			}
			seq, f := p.judgeBurstReply(buf[:n], i, label, pending)
			if f != nil {
				t.fail = f
				return t
			}
			if answered[seq] && !pending[seq] && tries[seq] == 1 {
				t.fail = &Failure{Kind: KindExtraBytes, Diagnosis: DiagDuplicated, Offset: -1, Conn: label,
					Expected: fmt.Sprintf("one reply to datagram %d, sent once", seq+1), Actual: "two replies",
					Detail: "the server sent the same datagram back twice"}
				return t
			}
			if !answered[seq] && !pending[seq] && tries[seq] == udpTries {
				t.lost-- // a late reply to a datagram already counted lost
			}
			answered[seq] = true
			anyAnswer = true
			delete(pending, seq)
		}
	}
	return t
}

// burstDatagram is datagram seq of socket i: its socket and sequence
// number, then payload, 64 to 1400 bytes in all.
func (p *probe) burstDatagram(i, seq int) []byte {
	n := 64 + (i*burstPerSocket+seq)*97%1337
	b := p.datagram(burstSockets+i*burstPerSocket+seq, n)
	binary.BigEndian.PutUint32(b[0:4], uint32(i))
	binary.BigEndian.PutUint32(b[4:8], uint32(seq))
	return b
}

// judgeBurstReply checks that got is exactly one datagram that socket i
// sent, and returns its sequence number. A reply too short to carry the
// header is judged against the first pending datagram it begins.
func (p *probe) judgeBurstReply(got []byte, i int, label string, pending map[int]bool) (int, *Failure) {
	if len(got) < burstHeader {
		for seq := range burstPerSocket {
			if want := p.burstDatagram(i, seq); pending[seq] && bytes.HasPrefix(want, got) {
				return 0, judgeDatagram(want, got, fmt.Sprintf("%s, datagram %d", label, seq+1))
			}
		}
	}
	if len(got) >= burstHeader {
		owner := int(binary.BigEndian.Uint32(got[0:4]))
		seq := int(binary.BigEndian.Uint32(got[4:8]))
		if owner >= 0 && owner < burstSockets && seq >= 0 && seq < burstPerSocket {
			want := p.burstDatagram(owner, seq)
			if f := judgeDatagram(want, got, fmt.Sprintf("%s, datagram %d", label, seq+1)); f != nil {
				if len(got) != len(want) {
					f.Detail += fmt.Sprintf("; datagrams were merged or split: a %d-byte datagram came back as %d bytes",
						len(want), len(got))
				}
				return 0, f
			}
			if owner != i {
				return 0, &Failure{Kind: KindWrongBytes, Diagnosis: DiagOtherClient, Offset: 0, Conn: label,
					Expected: "replies to this socket's own datagrams",
					Actual:   fmt.Sprintf("datagram %d of socket %d", seq+1, owner+1),
					Detail: "the server sent one client's datagram to another: " +
						"reply to the address recvfrom returned for that datagram"}
			}
			return seq, nil
		}
	}
	return 0, &Failure{Kind: KindWrongBytes, Offset: 0, Conn: label, Received: int64(len(got)),
		Expected: "one of the datagrams this socket sent", Actual: fmt.Sprintf("%d bytes that match none of them", len(got)),
		ActualWindow: got[:min(len(got), 2*udpWindow)],
		Detail:       "the reply is not any datagram that was sent: it was altered, merged or split"}
}
