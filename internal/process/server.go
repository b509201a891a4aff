package process

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// recentWindow is how long after a check ends a server death is still
// attributed to it: a server that dies of SIGPIPE dies just after the
// client closed, and a loaded machine may reap a dead server late.
const recentWindow = 500 * time.Millisecond

// Death is one observed end of a server incarnation during the run.
type Death struct {
	How    string   // how it ended ("signal: killed")
	during []string // checks in flight when it died
	after  []string // checks that had ended within recentWindow, when none was in flight
}

// Supervisor runs an exec'd server across the run: it starts it, tracks
// which checks are in flight so a death can be attributed, and restarts it
// when asked to. It is safe for concurrent use.
type Supervisor struct {
	x     Spec
	out   *boundedOutput
	order map[string]int // catalogue position, to sort attributions

	mu       sync.Mutex
	cur      *Incarnation
	first    *Incarnation
	inflight map[string]int
	recent   map[string]recentEnd
	deaths   []Death
	restarts int
	fatal    *deathError // set when the server is down for good
}

// deathError says the server is down and will not come back.
type deathError struct {
	msg     string
	startup *startupError
}

func (e *deathError) Error() string { return e.msg }

func NewSupervisor(x Spec, order map[string]int) *Supervisor {
	return &Supervisor{
		x:        x,
		out:      &boundedOutput{limit: x.OutputLimit},
		order:    order,
		inflight: make(map[string]int),
		recent:   make(map[string]recentEnd),
	}
}

// Start starts the first incarnation and waits for it to listen.
func (s *Supervisor) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked(ctx)
}

func (s *Supervisor) startLocked(ctx context.Context) error {
	p, err := startProc(&s.x, s.out)
	if err != nil {
		s.fatal = &deathError{msg: err.Error(), startup: &startupError{msg: err.Error()}}
		return s.fatal
	}
	if s.first == nil {
		s.first = p
	}
	s.cur = p
	if err := waitReady(ctx, s.x.Network, p, s.x.StartupTimeout); err != nil {
		p.stop()
		se, _ := err.(*startupError)
		s.fatal = &deathError{msg: err.Error(), startup: se}
		return s.fatal
	}
	go s.watch(p)
	return nil
}

// watch records p's death, unless the runner stopped it, and kills what is
// left of its process group (the children of a forking server).
func (s *Supervisor) watch(p *Incarnation) {
	select {
	case <-p.done:
	case <-p.stopped:
		return
	}
	s.mu.Lock()
	recorded := s.noteDeathLocked(p)
	s.mu.Unlock()
	if recorded {
		go p.stop()
	}
}

// noteDeathLocked records p's death once, attributed to the checks in
// flight; when none is, to the checks that ended within recentWindow and
// failed (they saw it die), else to those that passed (it died just after
// them, as of SIGPIPE). Only a check in flight has its result changed
// (see Finish); the others are named in the death's description, which
// robustness/server-alive reports. It reports whether it recorded the
// death now.
func (s *Supervisor) noteDeathLocked(p *Incarnation) bool {
	if p.stopping.Load() || p.deathNoted {
		return false
	}
	p.deathNoted = true
	d := Death{How: p.how}
	for id := range s.inflight {
		d.during = append(d.during, id)
	}
	if len(d.during) == 0 {
		now := time.Now()
		for id, r := range s.recent {
			if now.Sub(r.at) > recentWindow || r.at.Before(p.started) {
				continue
			}
			if r.failed {
				d.during = append(d.during, id)
			} else {
				d.after = append(d.after, id)
			}
		}
		if len(d.during) > 0 {
			d.after = nil
		}
	}
	s.sortIDs(d.during)
	s.sortIDs(d.after)
	s.deaths = append(s.deaths, d)
	return true
}

func (s *Supervisor) sortIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool { return s.order[ids[i]] < s.order[ids[j]] })
}

// Ensure returns the running incarnation, restarting a dead one when
// Restart is set. It returns a *deathError when the server is down for good.
func (s *Supervisor) Ensure(ctx context.Context) (*Incarnation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal != nil {
		return nil, s.fatal
	}
	if !s.cur.exited() {
		return s.cur, nil
	}
	if s.noteDeathLocked(s.cur) {
		go s.cur.stop()
	}
	last := s.lastDeathLocked()
	if !s.x.Restart {
		s.fatal = &deathError{msg: "the server " + last}
		return nil, s.fatal
	}
	if s.restarts >= maxRestarts {
		s.fatal = &deathError{msg: fmt.Sprintf("the server died %d times and is not restarted again; last it %s", s.restarts+1, last)}
		return nil, s.fatal
	}
	s.restarts++
	s.out.note(fmt.Sprintf("\n[echoconf: server %s; restart %d]\n", last, s.restarts))
	if err := s.startLocked(ctx); err != nil {
		s.fatal = &deathError{msg: fmt.Sprintf("the server %s, and restarting it failed: %v", last, err)}
		return nil, s.fatal
	}
	return s.cur, nil
}

// NotRunnable returns an ErrCommand error when the first incarnation
// failed to start because its command could not be run: it ended with
// exit status 126 or 127 (the shell's "cannot execute" and "not found")
// before listening. It quotes the last line of the output, which says why.
func (s *Supervisor) NotRunnable(err error) error {
	var de *deathError
	if !errors.As(err, &de) || de.startup == nil || !de.startup.exited {
		return nil
	}
	if de.startup.how != "exit status 127" && de.startup.how != "exit status 126" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.restarts > 0 || s.first == nil {
		return nil
	}
	out, _ := s.out.snapshot()
	line := strings.TrimSpace(out)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[i+1:])
	}
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	if line == "" {
		return fmt.Errorf("%w: %s ended with %s before it listened", ErrProgram, s.first.command, de.startup.how)
	}
	return fmt.Errorf("%w: %s ended with %s before it listened: %s", ErrProgram, s.first.command, de.startup.how, line)
}

// Died reports whether the server has died (or is down for good).
func (s *Supervisor) Died() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal != nil || len(s.deaths) > 0 || s.cur.exited()
}

// lastDeathLocked describes the latest death ("died during X: how").
func (s *Supervisor) lastDeathLocked() string {
	if len(s.deaths) == 0 {
		return "exited: " + s.cur.how
	}
	return s.deaths[len(s.deaths)-1].String()
}

// String renders a death as "died during X, Y: how".
func (d Death) String() string {
	switch {
	case len(d.during) > 0:
		return fmt.Sprintf("died during %s: %s", strings.Join(d.during, ", "), d.How)
	case len(d.after) > 0:
		return fmt.Sprintf("died just after %s: %s", strings.Join(d.after, ", "), d.How)
	}
	return "died between checks: " + d.How
}

// Begin and Finish bracket one run of a check, for attributing deaths.
// Begin returns the position Finish needs.
func (s *Supervisor) Begin(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight[id]++
	return len(s.deaths)
}

// Finish ends one run of check id against incarnation p, begun at mark.
// If p has ended, its death is recorded now, while id is still in flight,
// so that the run's own result can carry it: Finish returns the first
// death recorded while this run was in flight, if any.
func (s *Supervisor) Finish(id string, p *Incarnation, mark int, failed bool) (Death, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.exited() && s.noteDeathLocked(p) {
		go p.stop()
	}
	if s.inflight[id]--; s.inflight[id] <= 0 {
		delete(s.inflight, id)
	}
	s.recent[id] = recentEnd{at: time.Now(), failed: failed}
	for _, d := range s.deaths[min(mark, len(s.deaths)):] {
		if slices.Contains(d.during, id) {
			return d, true
		}
	}
	return Death{}, false
}

// Deaths returns the deaths recorded so far.
func (s *Supervisor) Deaths() []Death {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Death(nil), s.deaths...)
}

// recentEnd is when a check last ended, and whether that run failed.
type recentEnd struct {
	at     time.Time
	failed bool
}

// Addr returns the current incarnation's address.
func (s *Supervisor) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.addr
}

// Shutdown stops the current incarnation and returns what the report
// says about the server.
func (s *Supervisor) Shutdown() (*Info, []Death) {
	s.mu.Lock()
	cur := s.cur
	s.mu.Unlock()
	var exit string
	if cur != nil {
		cur.stop()
		exit = cur.ownExit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	info := &Info{Restarts: s.restarts, Exit: exit}
	if s.first != nil {
		info.PID = s.first.pid
		info.Command = s.first.command
	} else {
		info.Command = s.x.Command
	}
	for _, d := range s.deaths {
		info.Deaths = append(info.Deaths, d.String())
	}
	info.Output, info.OutputTruncated = s.out.snapshot()
	return info, append([]Death(nil), s.deaths...)
}

// StartupExited reports whether err, from Start or Ensure, says that the
// server exited before it was ready (as opposed to never listening).
func StartupExited(err error) bool {
	var de *deathError
	return errors.As(err, &de) && de.startup != nil && de.startup.exited
}
