package spec

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"syscall"
	"time"
)

// Connection tags: the top 12 bits come from the check's ID, so a server
// that mixes up clients is caught naming the other connection even across
// checks that run at the same time; the low 20 bits number the check's
// connections.
const (
	connCheckMask uint32 = 0xFFF00000
	connIndexMask uint32 = 0x000FFFFF
)

// pollInterval is how often bounded polls (process state, zombie and fd
// counts) look again.
const pollInterval = 20 * time.Millisecond

// probe is one run of one check: its environment and its connection tags.
type probe struct {
	env  *Env
	id   string
	base uint32
}

// newProbe prepares a run of the check id.
func newProbe(id string, env *Env) *probe {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id)) // hash writes never fail
	return &probe{env: env, id: id, base: h.Sum32() & connCheckMask}
}

// connTag returns the tag of the check's connection number i.
func (p *probe) connTag(i int) uint32 { return p.base | uint32(i)&connIndexMask }

// payload returns the generated payload for connection i, round r.
func (p *probe) payload(i, r int, size int64) payload {
	return generated(p.env.Seed, p.connTag(i), r, size)
}

// dialFailure explains a connection that could not be made.
func (p *probe) dialFailure(ctx context.Context, label string, err error) *Failure {
	f := &Failure{Kind: KindRefused, Ending: EventRefused, Offset: -1, Conn: label, Err: err, Expected: "a connection"}
	switch {
	case ctx.Err() != nil:
		f.Kind, f.Ending = KindTimeout, EventNone
		f.Actual = "no connection before the check's time limit ran out"
		f.Detail = "the check ran out of time while connecting"
		return f
	case errors.Is(err, syscall.ECONNREFUSED):
		f.Actual = "connection refused"
		f.Detail = "nothing is listening on the port: the server is not running, has exited, or stopped listening"
	case isTimeout(err):
		f.Actual = fmt.Sprintf("no connection within %s", p.env.Scaled(dialTimeout))
		f.Detail = "the connection could not be completed: the server's accept queue " +
			"stays full (it does not accept connections fast enough, or at all)"
	default:
		f.Actual = "the connection failed"
		f.Detail = fmt.Sprintf("could not connect: %v", err)
	}
	if dead, how := p.ended(ctx, p.env.Scaled(500*time.Millisecond)); dead {
		died(f, how, "")
	}
	return f
}

// ended reports whether the server process has ended, polling for at most
// wait (the runner notices a death asynchronously). It reports false when
// there is no process to watch.
func (p *probe) ended(ctx context.Context, wait time.Duration) (bool, string) {
	if p.env.Process == nil {
		return false, ""
	}
	deadline := time.Now().Add(wait)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		if dead, how := p.env.Process.Exited(); dead {
			return true, how
		}
		if !time.Now().Before(deadline) {
			return false, ""
		}
		select {
		case <-ctx.Done():
			return false, ""
		case <-t.C:
		}
	}
}

// died turns f into a server-died failure: the process ended (how), after
// what happened (when, e.g. "after clients reset their connections").
func died(f *Failure, how, when string) {
	f.Kind, f.Ending = KindServerDied, EventExit
	f.Actual = "the server process ended: " + how
	if strings.Contains(how, "broken pipe") {
		f.Actual = "the server process was killed by SIGPIPE (" + how + ")"
	}
	f.Detail = strings.TrimSpace(fmt.Sprintf("the server process ended (%s) %s", how, when)) + deathHint(how)
}

// deathHint suggests a fix for a way of dying.
func deathHint(how string) string {
	switch {
	case strings.Contains(how, "broken pipe"):
		return ": it was killed by SIGPIPE when writing to a client that had gone; ignore SIGPIPE (signal(SIGPIPE, " +
			"SIG_IGN)) or use send(..., MSG_NOSIGNAL), and handle EPIPE and ECONNRESET from write()"
	case strings.Contains(how, "segmentation"):
		return ": it crashed with a segmentation fault (a buffer overflow or a bad pointer?)"
	case strings.Contains(how, "killed"):
		return ": it was killed (a resource limit such as CPU time or memory?)"
	case strings.HasPrefix(how, "exit status"):
		return ": it exited on its own; a server must not exit when one client misbehaves " +
			"or a call such as accept() fails with EINTR, EMFILE or ECONNABORTED"
	}
	return ""
}

// noteDeath adds the server's death to a failure observed while the server
// was dying, without changing what the check observed.
func noteDeath(env *Env, err error) error {
	var f *Failure
	if env == nil || env.Process == nil || !errors.As(err, &f) || f.Kind == KindServerDied {
		return err
	}
	if dead, how := env.Process.Exited(); dead {
		if f.Detail != "" {
			f.Detail += "; "
		}
		f.Detail += "the server process had ended (" + how + ")"
	}
	return err
}

// needProcess returns Skipped when the check needs the server's process
// and the target has none.
func needProcess(env *Env) error {
	if env.Process == nil {
		return &Skipped{Reason: ReasonNeedsProcess}
	}
	return nil
}
