package process

import (
	"context"
	"sync"
)

// Process is a server that echoconf started from a command line, to be
// checked by address: with TestServer, CheckServer, echoginkgo or
// Target.Addr. It is what Target.Exec does inside a run, for callers that
// need the address themselves, such as a Go test of a server written in
// another language.
//
// Unlike Target.Exec, a run against Addr does not see the process: the
// checks that need it (robustness/server-alive, no-zombies, fd-stable)
// skip, and a death is not attributed to a check or restarted.
type Server struct {
	s    *Supervisor
	once sync.Once
	info *Info
}

// Start starts x.Command with {port} replaced by a free port of
// 127.0.0.1, in its own session and process group, under x's limits, and
// returns once the server accepts connections. It fails if the server exits
// or does not accept within x.StartupTimeout, or when ctx ends first; the
// process group is then already stopped. x.Restart is ignored.
//
// If the calling process dies, the server is killed with it (Linux
// PR_SET_PDEATHSIG), so it never outlives its test binary.
func Start(ctx context.Context, x Spec) (*Server, error) {
	x.Restart = false
	x, err := x.WithDefaults()
	if err != nil {
		return nil, err
	}
	s := NewSupervisor(x, nil)
	if err := s.Start(ctx); err != nil {
		s.Shutdown()
		return nil, err
	}
	return &Server{s: s}, nil
}

// Addr is the server's address, "127.0.0.1:PORT".
func (p *Server) Addr() string { return p.s.Addr() }

// PID is the process ID of the server, which is also its process group ID.
func (p *Server) PID() int {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.s.first.pid
}

// Close stops the server's whole process group (SIGTERM, a grace period,
// then SIGKILL) and waits until none of it is left. It returns the server's
// description: its bounded output, and Exit when it ended on its own before
// Close. Close is idempotent; later calls return the same description.
func (p *Server) Close() *Info {
	p.once.Do(func() { p.info, _ = p.s.Shutdown() })
	return p.info
}
