package impl

import (
	"runtime/debug"
	"sync/atomic"
	"time"
)

// quietInterval is how often the server looks for a quiet time: a whole
// interval with connections ending or buffers lent before it, none lent
// during it, and none held.
const quietInterval = time.Second

// memoryJanitor returns free memory to the operating system at quiet times.
// Buffers go back to a sync.Pool when a read would block, but the pool
// only drops them after two garbage collections, and a server whose
// connections are idle allocates nothing, so no collection would come for
// minutes; nor would the stacks and state of connections that ended be
// returned before the runtime's scavenger got to them.
type memoryJanitor struct {
	lent  atomic.Int64 // buffers lent, ever
	held  atomic.Int64 // buffers lent now
	ended atomic.Int64 // connections ended, ever
	last  int64        // lent+ended at the previous look (timer goroutine only)
	dirty bool         // activity since the last release (timer goroutine only)
}

// look is called every quietInterval and returns memory if the server just
// became quiet.
func (j *memoryJanitor) look() {
	now := j.lent.Load() + j.ended.Load()
	if now != j.last {
		j.last = now
		j.dirty = true
		return
	}
	if !j.dirty || j.held.Load() != 0 {
		return
	}
	j.dirty = false
	// Two collections: the first moves the pool's buffers to its victim
	// cache, the second frees them; FreeOSMemory then unmaps them.
	debug.FreeOSMemory()
	debug.FreeOSMemory()
}

// startJanitor starts the quiet-time timer, once. Callers hold s.mu.
func (s *Server) startJanitor() {
	if s.quiet != nil || s.stopping {
		return
	}
	var tick func()
	tick = func() {
		s.janitor.look()
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.stopping {
			s.quiet.Reset(quietInterval)
		}
	}
	s.quiet = time.AfterFunc(quietInterval, tick)
}

// stopJanitor disarms the timer at shutdown.
func (s *Server) stopJanitor() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quiet != nil {
		s.quiet.Stop()
	}
}
