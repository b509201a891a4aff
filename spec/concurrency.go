package spec

import (
	"context"
	"fmt"
	"time"
)

// concurrencyChecks is the concurrency category, in catalogue order. Each
// runs alone: it measures whether one client can hold up another, and other
// checks' traffic could hold up a single-process server in its place.
var concurrencyChecks = []entry{
	concurrencyManyClientsCheck,
	concurrencyIdleClientCheck,
	concurrencyNonReadingClientCheck,
}

// Many clients: 100 connections held open (within a server FD limit of 256)
// exchanging 4 rounds of 64..1023-byte tagged chunks.
const (
	manyClients      = 100
	manyClientRounds = 4
)

var concurrencyManyClientsCheck = entry{
	Check: Check{
		ID: "concurrency/many-clients",
		Requirement: "At least 100 clients connected at once, sending distinct data in interleaved rounds, each get " +
			"exactly their own bytes and none starves.",
		Level:    Must,
		Timeout:  30 * time.Second,
		Schedule: Alone,
	},
	test: concurrencyManyClients,
}

// concurrencyManyClients connects every client first, then runs rounds in which
// each client sends a distinct chunk (in a rotating order) and then each
// reads its own echo back.
func concurrencyManyClients(ctx context.Context, p *probe) error {
	conns := make([]*echoConn, 0, manyClients)
	defer func() {
		for _, c := range conns {
			_ = c.Close() // the check is over
		}
	}()
	for i := 0; i < manyClients; i++ {
		c, f := p.dial(ctx, fmt.Sprintf("client %d of %d", i+1, manyClients))
		if f != nil {
			if i > 0 {
				f.Detail += fmt.Sprintf(" (%d clients were already connected)", i)
			}
			return f
		}
		conns = append(conns, c)
	}
	from := make([]int64, manyClients)
	for r := 1; r <= manyClientRounds; r++ {
		start := (r - 1) * 37 % manyClients
		for k := 0; k < manyClients; k++ {
			i := (start + k) % manyClients
			c := conns[i]
			c.round = r
			from[i] = c.want.Len()
			size := 64 + int64(mix64(p.env.Seed^uint64(i*manyClientRounds+r))%960)
			if f := c.send(ctx, p.payload(i, r, size)); f != nil {
				return f
			}
		}
		for k := 0; k < manyClients; k++ {
			i := (start + k) % manyClients
			c := conns[i]
			if f := c.recv(ctx, from[i]); f != nil {
				if f.Kind == KindTimeout && c.received == from[i] && ctx.Err() == nil {
					f.Detail = fmt.Sprintf("client %d got nothing back for %s while %d clients were "+
						"connected (%d of them already served in this round): the server does not serve "+
						"all its clients at once (one client at a time, or too few threads or processes?)",
						i+1, c.idle(), manyClients, k)
				}
				return f
			}
		}
	}
	return nil
}

var concurrencyIdleClientCheck = entry{
	Check: Check{
		ID:          "concurrency/idle-client",
		Requirement: "A connected but idle client does not block another client.",
		Level:       Must,
		Timeout:     15 * time.Second,
		Schedule:    Alone,
	},
	test: concurrencyIdleClient,
}

// concurrencyIdleClient opens client A and sends nothing on it; client B must
// still get its echo, and then so must A.
func concurrencyIdleClient(ctx context.Context, p *probe) error {
	a, f := p.dial(ctx, "client A (idle)")
	if f != nil {
		return f
	}
	defer a.Close()
	b, f := p.dial(ctx, "client B")
	if f != nil {
		return f
	}
	defer b.Close()
	if f := b.exchange(ctx, p.payload(1, 1, 200), xfer{}); f != nil {
		if f.Kind == KindTimeout && b.received == 0 && ctx.Err() == nil {
			f.Detail = fmt.Sprintf("client B got nothing back for %s while client A was connected "+
				"and idle: the server serves one client at a time (it waits on the idle client); "+
				"serve each client in its own process or thread, or multiplex them with poll/select", b.idle())
		}
		return f
	}
	a.label = "client A (idle until B was served)"
	return asError(a.exchange(ctx, p.payload(0, 1, 200), xfer{}))
}

// Non-reading client: A writes up to 64 MiB without reading, until its
// writes make no progress for fillStall (both sides' socket buffers full).
const (
	fillLimit = 64 * mib
	fillStall = 300 * time.Millisecond
)

var concurrencyNonReadingClientCheck = entry{
	Check: Check{
		ID:          "concurrency/non-reading-client",
		Requirement: "A client that sends a lot and never reads does not starve the others.",
		Level:       Must,
		Timeout:     20 * time.Second,
		Schedule:    Alone,
	},
	test: concurrencyNonReadingClient,
}

// concurrencyNonReadingClient fills the server with data from a client that never
// reads; another client must still get its echo.
func concurrencyNonReadingClient(ctx context.Context, p *probe) error {
	a, f := p.dial(ctx, "client A (never reads)")
	if f != nil {
		return f
	}
	defer a.abort()
	// A's own fate (blocked, or even reset by the server) is not the point.
	sentA, _ := a.fill(ctx, p.payload(0, 1, fillLimit), p.env.Scaled(fillStall))
	if err := ctx.Err(); err != nil {
		return err
	}
	b, f := p.dial(ctx, "client B")
	if f != nil {
		return f
	}
	defer b.Close()
	if f := b.exchange(ctx, p.payload(1, 1, 1000), xfer{}); f != nil {
		if f.Kind == KindTimeout && b.received == 0 && ctx.Err() == nil {
			f.Detail = fmt.Sprintf("client B got nothing back for %s while client A, which had "+
				"sent %d bytes and was not reading its echo, stayed connected: the server blocks "+
				"writing to a client that does not read (head-of-line blocking); give each client "+
				"its own process or thread, or use non-blocking sockets with per-client buffers", b.idle(), sentA)
		}
		return f
	}
	return nil
}
