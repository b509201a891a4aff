package impl_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// udpProbe exercises a UDP echo server, the reference one or a C one, and
// returns an error that says what went wrong. It never uses Gomega, so that
// a test can expect a faulty server's exact failure.
type udpProbe struct {
	server netip.AddrPort
	// wait is how long one try waits for its reply; tries is how many
	// times a datagram is sent before it counts as lost.
	wait  time.Duration
	tries int
}

// Probe bounds: every wait is bounded, and so is every loop.
const (
	probeWait   = 400 * time.Millisecond
	probeTries  = 3
	probeQuiet  = 150 * time.Millisecond // silence that shows no extra datagram comes
	probeSocket = 1 << 20                // each probe socket's SO_RCVBUF
)

// udpSizes are the boundary sizes: empty, one byte, a classic buffer, the
// Ethernet-sized payload, 8 KiB and the IPv4 maximum.
var udpSizes = []int{0, 1, 512, 1472, 8192, 65507}

func newUDPProbe(addr string) (udpProbe, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return udpProbe{}, err
	}
	return udpProbe{server: ap, wait: probeWait, tries: probeTries}, nil
}

// socket opens a client socket on 127.0.0.1 and a free port.
func (p udpProbe) socket() (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	if err := c.SetReadBuffer(probeSocket); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// errNoReply is the cause when a datagram got no reply after every try.
var errNoReply = errors.New("no reply")

// exchange sends d from c and returns the first datagram that comes back,
// sending d again after each silent wait. retried says whether d was sent
// more than once (so a second reply may legally follow).
func (p udpProbe) exchange(c *net.UDPConn, d []byte) (reply []byte, retried bool, err error) {
	buf := make([]byte, 64<<10)
	for try := range p.tries {
		if err := c.SetWriteDeadline(time.Now().Add(p.wait)); err != nil {
			return nil, false, err
		}
		if _, err := c.WriteToUDPAddrPort(d, p.server); err != nil {
			return nil, false, fmt.Errorf("send %d bytes: %w", len(d), err)
		}
		if err := c.SetReadDeadline(time.Now().Add(p.wait)); err != nil {
			return nil, false, err
		}
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return nil, try > 0, fmt.Errorf("receive: %w", err)
		}
		if from.Port() != p.server.Port() {
			return nil, try > 0, fmt.Errorf("a datagram came from %v, not from the server %v", from, p.server)
		}
		return bytes.Clone(buf[:n]), try > 0, nil
	}
	return nil, true, fmt.Errorf("%w to a %d-byte datagram after %d tries of %v", errNoReply, len(d), p.tries, p.wait)
}

// compare says how got differs from the datagram sent, or returns nil.
func compare(sent, got []byte) error {
	if bytes.Equal(sent, got) {
		return nil
	}
	i := firstDiff(sent, got)
	switch {
	case len(got) < len(sent) && i == len(got) && sent[i] == 0:
		return fmt.Errorf("sent %d bytes, got %d back: cut at the NUL byte at offset %d", len(sent), len(got), i)
	case len(got) < len(sent) && i == len(got):
		return fmt.Errorf("sent %d bytes, got %d back: the rest was cut", len(sent), len(got))
	case len(got) > len(sent) && i == len(sent):
		return fmt.Errorf("sent %d bytes, got %d back: %d bytes added", len(sent), len(got), len(got)-len(sent))
	}
	return fmt.Errorf("sent %d bytes, got %d back: differs at offset %d (sent 0x%02x, got 0x%02x)", len(sent), len(got), i, sent[i], got[i])
}

// quiet fails if any datagram arrives on c within probeQuiet, except a
// late reply to one of the retried datagrams.
func (p udpProbe) quiet(c *net.UDPConn, retried [][]byte) error {
	buf := make([]byte, 64<<10)
	for range 100 {
		if err := c.SetReadDeadline(time.Now().Add(probeQuiet)); err != nil {
			return err
		}
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		late := false
		for _, r := range retried {
			late = late || bytes.Equal(r, buf[:n])
		}
		if !late {
			return fmt.Errorf("an extra datagram of %d bytes came back", n)
		}
	}
	return errors.New("datagrams keep coming back")
}

// echoes sends each datagram in turn from one socket and checks that
// exactly one identical datagram comes back for each. It goes on after a
// wrong reply, and stops at the first one that never comes.
func (p udpProbe) echoes(datagrams ...[]byte) error {
	c, err := p.socket()
	if err != nil {
		return err
	}
	defer c.Close()
	var errs []error
	var retried [][]byte
	for _, d := range datagrams {
		got, again, err := p.exchange(c, d)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		if again {
			retried = append(retried, d)
		}
		if err := compare(d, got); err != nil {
			errs = append(errs, err)
		}
	}
	if err := p.quiet(c, retried); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sizes checks the boundary sizes, each a distinct random payload.
func (p udpProbe) sizes() error {
	var ds [][]byte
	for _, n := range udpSizes {
		ds = append(ds, pattern(uint64(n)+1, n))
	}
	return p.echoes(ds...)
}

// byteValues checks one datagram of every byte value upwards and one
// downwards, so a NUL starts one and ends the other.
func (p udpProbe) byteValues() error {
	up, down := make([]byte, 256), make([]byte, 256)
	for i := range 256 {
		up[i], down[i] = byte(i), byte(255-i)
	}
	return p.echoes(up, down)
}

// twoClients alternates datagrams from two sockets on different ports and
// checks that each gets only its own replies.
func (p udpProbe) twoClients() error {
	var cs [2]*net.UDPConn
	for i := range cs {
		c, err := p.socket()
		if err != nil {
			return err
		}
		defer c.Close()
		cs[i] = c
	}
	var retried [2][][]byte
	for round := range 5 {
		for i, c := range cs {
			d := fmt.Appendf(nil, "client %d, datagram %d", i+1, round)
			got, again, err := p.exchange(c, d)
			if errors.Is(err, errNoReply) {
				if stray := p.quiet(cs[1-i], nil); stray != nil {
					return fmt.Errorf("client %d: %w; client %d got a datagram instead (%v)", i+1, err, 2-i, stray)
				}
				return fmt.Errorf("client %d: %w", i+1, err)
			}
			if err != nil {
				return fmt.Errorf("client %d: %w", i+1, err)
			}
			if again {
				retried[i] = append(retried[i], d)
			}
			if err := compare(d, got); err != nil {
				return fmt.Errorf("client %d got %q: %w", i+1, got, err)
			}
		}
	}
	for i, c := range cs {
		if err := p.quiet(c, retried[i]); err != nil {
			return fmt.Errorf("client %d: %w", i+1, err)
		}
	}
	return nil
}

// closedClients sends datagrams from clients whose port is closed when
// the reply comes, so the server's reply meets an ICMP port unreachable,
// each followed by a datagram from a live client that must still come
// back. Odd clients close their socket at once (the reply may win that
// race); even ones are deaf: connected to their own address, so that no
// socket takes the reply and the ICMP comes every time.
func (p udpProbe) closedClients() error {
	live, err := p.socket()
	if err != nil {
		return err
	}
	defer live.Close()
	for i := range 10 {
		if err := p.ghost(i%2 == 0); err != nil {
			return err
		}
		d := fmt.Appendf(nil, "still there after closed client %d?", i+1)
		got, _, err := p.exchange(live, d)
		if err != nil {
			return fmt.Errorf("after %d client(s) closed their port before the reply: %w", i+1, err)
		}
		if err := compare(d, got); err != nil {
			return err
		}
	}
	return nil
}

// ghost sends one datagram from a client that is gone when the reply
// comes: a deaf socket (see closedClients), or one closed at once.
func (p udpProbe) ghost(deaf bool) error {
	d := []byte("gone before the reply")
	if !deaf {
		c, err := p.socket()
		if err != nil {
			return err
		}
		derr := c.SetWriteDeadline(time.Now().Add(p.wait))
		_, werr := c.WriteToUDPAddrPort(d, p.server)
		return errors.Join(derr, werr, c.Close())
	}
	c, err := p.socket()
	if err != nil {
		return err
	}
	defer c.Close()
	self := c.LocalAddr().(*net.UDPAddr).AddrPort()
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	cerr := raw.Control(func(fd uintptr) {
		if serr = syscall.Connect(int(fd), &syscall.SockaddrInet4{Port: int(self.Port()), Addr: self.Addr().As4()}); serr != nil {
			return
		}
		// sendto with an address works on a connected UDP socket.
		serr = syscall.Sendto(int(fd), d, 0, &syscall.SockaddrInet4{Port: int(p.server.Port()), Addr: p.server.Addr().As4()})
	})
	return errors.Join(cerr, serr)
}

// burstResult is what a burst measured.
type burstResult struct {
	Sent     int // distinct datagrams
	LostOnce int // datagrams without a reply after the first send
	Resent   int // sends after the first
	Lost     int // datagrams without a reply after every try
	Late     int // second replies to datagrams that were resent (legal)
}

// LossRate is the share of datagrams lost on their first send.
func (r burstResult) LossRate() float64 { return float64(r.LostOnce) / float64(r.Sent) }

func (r burstResult) String() string {
	return fmt.Sprintf("%d datagrams, %d lost on first send (%.1f%%), %d resent, %d lost after %d tries, %d late replies",
		r.Sent, r.LostOnce, 100*r.LossRate(), r.Resent, r.Lost, probeTries, r.Late)
}

// Burst shape: sockets × perSocket datagrams, sent all at once.
const (
	burstSockets   = 20
	burstPerSocket = 50
	burstHeader    = 8 // socket (2 bytes), sequence (2), length (4)
	// burstMaxLost is the loss after every retry a burst tolerates: 1%.
	burstMaxLost = burstSockets * burstPerSocket / 100
)

// burstDatagram is datagram seq of socket s: a header that names it, then
// random bytes, 8 to 1472 bytes in all.
func burstDatagram(s, seq int) []byte {
	id := s*burstPerSocket + seq
	n := burstHeader + (id*7919)%(1472-burstHeader+1)
	d := pattern(uint64(id)+1000, n)
	binary.BigEndian.PutUint16(d[0:], uint16(s))
	binary.BigEndian.PutUint16(d[2:], uint16(seq))
	binary.BigEndian.PutUint32(d[4:], uint32(n))
	return d
}

// burst sends 1000 datagrams from 20 sockets at once, resends the lost
// ones up to probeTries-1 times (see burstSocket), and fails on any wrong, merged, split or
// duplicated reply, or on more than 1% lost after every try.
func (p udpProbe) burst() (burstResult, error) {
	var (
		mu   sync.Mutex
		res  = burstResult{Sent: burstSockets * burstPerSocket}
		errs []error
		wg   sync.WaitGroup
	)
	// Every socket stays open until the whole burst is over, so that a
	// late reply never meets a closed port: that is closedClients' test.
	socks := make([]*net.UDPConn, 0, burstSockets)
	defer func() {
		for _, c := range socks {
			_ = c.Close()
		}
	}()
	for range burstSockets {
		c, err := p.socket()
		if err != nil {
			return res, err
		}
		socks = append(socks, c)
	}
	start := make(chan struct{})
	for s, c := range socks {
		wg.Go(func() {
			<-start
			r, err := p.burstSocket(c, s)
			mu.Lock()
			defer mu.Unlock()
			res.LostOnce += r.LostOnce
			res.Resent += r.Resent
			res.Lost += r.Lost
			res.Late += r.Late
			if err != nil {
				errs = append(errs, fmt.Errorf("socket %d: %w", s, err))
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more sockets with wrong replies", len(errs)-3))
	}
	if res.Lost > burstMaxLost {
		lost := fmt.Errorf("%d of %d datagrams lost after %d tries (at most %d allowed)", res.Lost, res.Sent, probeTries, burstMaxLost)
		errs = append([]error{lost}, errs...)
	}
	return res, errors.Join(errs...)
}

// burstSocket is one socket's share of a burst: the first try sends all
// its datagrams at once; each later try resends the missing ones with at
// most burstWindow in flight, so that the resends themselves do not
// overflow a server's receive buffer, and gives up after two silent waits
// in a row.
func (p udpProbe) burstSocket(c *net.UDPConn, s int) (res burstResult, err error) {
	b := burstState{probe: p, conn: c, socket: s, buf: make([]byte, 64<<10)}
	defer func() {
		for seq := range burstPerSocket {
			b.res.Resent += max(b.sends[seq]-1, 0)
		}
		res = b.res
	}()
	for try := range p.tries {
		var missing []int
		for seq := range burstPerSocket {
			if b.replies[seq] == 0 {
				missing = append(missing, seq)
			}
		}
		if try == 1 {
			b.res.LostOnce = len(missing)
		}
		if len(missing) == 0 {
			break
		}
		window := burstPerSocket
		if try > 0 {
			window = burstWindow
		}
		if err := b.round(missing, window); err != nil {
			return b.res, err
		}
	}
	for seq := range burstPerSocket {
		if b.replies[seq] == 0 {
			b.res.Lost++
		}
	}
	// Nothing more may come, except late replies to resent datagrams.
	var resent [][]byte
	for seq := range burstPerSocket {
		if b.sends[seq] > 1 {
			resent = append(resent, burstDatagram(s, seq))
		}
	}
	return b.res, p.quiet(c, resent)
}

// burstWindow is how many resent datagrams one socket has in flight.
const burstWindow = 4

// burstState is one socket's bookkeeping during a burst.
type burstState struct {
	probe   udpProbe
	conn    *net.UDPConn
	socket  int
	buf     []byte
	res     burstResult
	replies [burstPerSocket]int
	sends   [burstPerSocket]int
}

// round sends the datagrams of missing, at most window in flight, and
// reads replies until each one sent has its reply or a wait passed in
// silence; two silent waits in a row end the round.
func (b *burstState) round(missing []int, window int) error {
	next, inflight, silent := 0, 0, 0
	for range 10 * burstPerSocket {
		for inflight < window && next < len(missing) {
			seq := missing[next]
			next++
			if b.replies[seq] > 0 {
				continue // a late reply came meanwhile
			}
			if err := b.conn.SetWriteDeadline(time.Now().Add(b.probe.wait)); err != nil {
				return err
			}
			if _, err := b.conn.WriteToUDPAddrPort(burstDatagram(b.socket, seq), b.probe.server); err != nil {
				return fmt.Errorf("send: %w", err)
			}
			b.sends[seq]++
			inflight++
		}
		if inflight == 0 {
			return nil
		}
		if err := b.conn.SetReadDeadline(time.Now().Add(b.probe.wait)); err != nil {
			return err
		}
		n, _, err := b.conn.ReadFromUDPAddrPort(b.buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			inflight = 0 // those are lost, for this try
			if silent++; silent == 2 {
				return nil
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		silent = 0
		seq, err := checkBurstReply(b.socket, b.buf[:n])
		if err != nil {
			return err
		}
		b.replies[seq]++
		switch {
		case b.replies[seq] == 1:
			inflight = max(inflight-1, 0)
		case b.sends[seq] > 1:
			b.res.Late++
		default:
			return fmt.Errorf("datagram %d (sent once) came back twice", seq)
		}
	}
	return errors.New("the round did not end")
}

// checkBurstReply returns the sequence number of the datagram of socket s
// that d echoes, or says why d is no echo of one.
func checkBurstReply(s int, d []byte) (int, error) {
	if len(d) < burstHeader {
		return 0, fmt.Errorf("a %d-byte reply: split or cut (every datagram has at least %d bytes)", len(d), burstHeader)
	}
	from, seq := int(binary.BigEndian.Uint16(d[0:])), int(binary.BigEndian.Uint16(d[2:]))
	if from != s || seq >= burstPerSocket {
		return 0, fmt.Errorf("a reply that is no datagram this socket sent (header says socket %d, datagram %d)", from, seq)
	}
	if err := compare(burstDatagram(s, seq), d); err != nil {
		return 0, fmt.Errorf("datagram %d: %w (merged, split or altered)", seq, err)
	}
	return seq, nil
}
