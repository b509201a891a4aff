package impl

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// Accept backoff bounds, as in net/http.
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

// acceptLoop is Serve's body: take a slot, accept, hand the connection to
// its handler, and back off on resource exhaustion.
func (s *Server) acceptLoop(ln net.Listener) error {
	var backoff time.Duration
	for {
		if !s.acquire() {
			return ErrServerClosed
		}
		if !s.acquireSpawn() {
			s.release()
			return ErrServerClosed
		}
		c, err := ln.Accept()
		if err != nil {
			s.releaseSpawn()
			s.release()
			if s.isStopping() {
				return ErrServerClosed
			}
			if !retryableAcceptError(err) {
				return fmt.Errorf("accept: %w", err)
			}
			backoff = min(max(2*backoff, minAcceptBackoff), maxAcceptBackoff)
			s.logf("accept: %v; retrying in %v", err, backoff)
			timer := time.NewTimer(backoff)
			select {
			case <-timer.C:
			case <-s.done:
				timer.Stop()
				return ErrServerClosed
			}
			continue
		}
		backoff = 0
		t, ok := s.track(c)
		if !ok {
			_ = c.Close()
			s.releaseSpawn()
			s.release()
			return ErrServerClosed
		}
		if s.cfg.Model == ModelProcess {
			go func() {
				defer s.releaseSpawn()
				s.serveInChild(t)
			}()
			continue
		}
		go s.handle(t)
	}
}

func (s *Server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// retryableAcceptError reports whether err is a shortage of descriptors,
// buffers or memory that goes away as connections end.
func retryableAcceptError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.ErrorLog != nil {
		s.cfg.ErrorLog.Printf(format, args...)
	}
}

// acquireSpawn takes, in the process model, one of the slots for a
// connection accepted but not yet handed to its child (see spawnSlots), or
// reports false if the server stops first.
func (s *Server) acquireSpawn() bool {
	if s.spawnSlots == nil {
		return true
	}
	select {
	case s.spawnSlots <- struct{}{}:
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) releaseSpawn() {
	if s.spawnSlots != nil {
		<-s.spawnSlots
	}
}
