package gallery

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
)

// DefaultParallel is how many servers are built or checked at once by
// default. Most servers in the gallery spend their run waiting for check
// timeouts: on 2 cores, eight at a time take the table under -race from
// 105 s to 76 s with the same 47 s of CPU.
const DefaultParallel = 8

// ServerRun is the result of running the catalogue against one server.
type ServerRun struct {
	Program Program
	Report  *engine.Report // nil when Err is set
	Err     error          // engine.Run could not run at all
	Elapsed time.Duration
	// Leftovers lists processes of the server's process group still alive
	// (not zombies) once the run returned; it should always be empty.
	Leftovers []int
}

// RunServer runs the catalogue against server p built at bin, with opts,
// and looks for processes left behind.
func RunServer(ctx context.Context, p Program, bin string, opts engine.Options) ServerRun {
	start := time.Now()
	rep, err := engine.Run(ctx, p.Target(bin), opts)
	sr := ServerRun{Program: p, Report: rep, Err: err, Elapsed: time.Since(start)}
	if rep != nil && rep.Server != nil && rep.Server.PID > 0 {
		sr.Leftovers, _ = GroupMembers(rep.Server.PID)
	}
	return sr
}

// RunAll runs RunServer for every program in ps, at most parallel at a
// time, and returns the runs in the order of ps. bins maps a program's
// name to its binary. start, when not nil, is called as each run starts,
// and done as each ends (from the worker's goroutine; they must be safe for
// concurrent use).
func RunAll(ctx context.Context, ps []Program, bins map[string]string, parallel int, opts engine.Options,
	start func(Program), done func(ServerRun)) []ServerRun {
	if parallel < 1 {
		parallel = 1
	}
	runs := make([]ServerRun, len(ps))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				runs[i] = ServerRun{Program: p, Err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			bin, ok := bins[p.Name]
			if !ok {
				runs[i] = ServerRun{Program: p, Err: fmt.Errorf("gallery: %s was not built", p.Name)}
				return
			}
			if start != nil {
				start(p)
			}
			runs[i] = RunServer(ctx, p, bin, opts)
			if done != nil {
				done(runs[i])
			}
		}()
	}
	wg.Wait()
	return runs
}

// GroupMembers lists the live (not zombie) processes whose process group
// is pgid, from /proc. Zombies are left out: a killed server's children
// are reparented to init, which reaps them in its own time.
func GroupMembers(pgid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("gallery: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // it ended while we looked
		}
		// The fields after the parenthesised command: state ppid pgrp ...
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
