package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
)

// termProgress shows a run's progress. With a streamed text report, each
// check's line goes to stdout as the check ends. When stderr is a
// terminal, whatever the report's format or destination, a status line
// there says how many checks have ended ("[12/26]") and which are running,
// and is replaced by the verdict at the end. Its methods are safe to call
// from the engine's progress callback (calls are serialised) and after it.
type termProgress struct {
	mu     sync.Mutex
	stdout io.Writer
	stderr io.Writer
	stream bool // print each check's line to stdout
	title  string
	titled bool // the title line is out
	color  bool // colour the stdout lines
	status bool // draw the status line on stderr
	colorE bool // colour the stderr lines
	start  time.Time

	running map[string]bool
	ended   map[int]bool
	total   int
	drawn   bool
	tick    *time.Ticker  // redraws the status line while a check is silent
	done    chan struct{} // closed by clear: stops the ticker's goroutine
}

func newTermProgress(stdout, stderr io.Writer, stream, color, stderrColor bool) *termProgress {
	return &termProgress{stdout: stdout, stderr: stderr, stream: stream, color: color,
		status: isTerminal(stderr), colorE: stderrColor, start: time.Now(),
		running: map[string]bool{}, ended: map[int]bool{}}
}

// event is the engine's Options.Progress.
func (p *termProgress) event(ev engine.ProgressEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = ev.Total
	if p.status && p.tick == nil {
		p.tick, p.done = time.NewTicker(time.Second), make(chan struct{})
		go p.redraw(p.tick, p.done)
	}
	switch ev.Kind {
	case engine.ProgressStart:
		p.running[ev.Check.ID] = true
	case engine.ProgressEnd:
		delete(p.running, ev.Check.ID)
		p.ended[ev.Index] = true
		if p.stream && ev.Result != nil {
			p.erase()
			p.printTitle()
			_, _ = fmt.Fprintf(p.stdout, "%s\n", render.CheckLine(*ev.Result, p.color))
		}
	}
	p.draw()
}

// printTitle writes the text report's title line to stdout, once, before
// the first check's line: after the run has started, so that a usage
// error found by the engine leaves stdout empty.
func (p *termProgress) printTitle() {
	if p.titled || p.title == "" {
		return
	}
	p.titled = true
	_, _ = fmt.Fprintln(p.stdout, p.title)
}

// titleShown reports whether the title line was written.
func (p *termProgress) titleShown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.titled
}

// redraw refreshes the status line every tick until done is closed, so
// the elapsed time moves while a check waits on a silent server.
func (p *termProgress) redraw(t *time.Ticker, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-t.C:
			p.mu.Lock()
			if p.drawn {
				p.draw()
			}
			p.mu.Unlock()
		}
	}
}

// draw writes the status line: "[12/26] running large/64mib, basic/... (3s)".
func (p *termProgress) draw() {
	if !p.status {
		return
	}
	ids := make([]string, 0, len(p.running))
	for id := range p.running {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	line := fmt.Sprintf("[%d/%d]", len(p.ended), p.total)
	if len(ids) > 0 {
		shown := ids
		if len(shown) > 2 {
			shown = shown[:2]
		}
		line += " running " + strings.Join(shown, ", ")
		if more := len(ids) - len(shown); more > 0 {
			line += fmt.Sprintf(" and %d more", more)
		}
	}
	line += fmt.Sprintf("  %s", time.Since(p.start).Round(time.Second))
	if len(line) > 100 {
		line = line[:99] + "…"
	}
	if p.colorE {
		line = "\x1b[2m" + line + "\x1b[0m"
	}
	_, _ = fmt.Fprintf(p.stderr, "\r\x1b[K%s", line)
	p.drawn = true
}

// erase removes the status line, so that other output starts on a clean line.
func (p *termProgress) erase() {
	if p.drawn {
		_, _ = io.WriteString(p.stderr, "\r\x1b[K")
		p.drawn = false
	}
}

// clear removes the status line once the run is over, and stops its
// refreshing.
func (p *termProgress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tick != nil {
		p.tick.Stop()
		close(p.done)
		p.tick = nil
	}
	p.erase()
}

// verdict ends the progress on stderr with the verdict and the counts,
// unless the streamed text report already showed them on the terminal.
func (p *termProgress) verdict(r *engine.Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	if !p.status || (p.stream && isTerminal(p.stdout)) {
		return
	}
	n := r.Counts()
	word := "PASS: conformant"
	if r.Verdict() != engine.VerdictPass {
		word = "FAIL: not conformant"
	}
	counts := fmt.Sprintf("%d passed, %d failed, %d warned", n[engine.StatusPass], n[engine.StatusFail], n[engine.StatusWarn])
	if k := n[engine.StatusUnjudged]; k > 0 {
		counts += fmt.Sprintf(", %d not judged", k)
	}
	if k := n[engine.StatusError]; k > 0 {
		counts += fmt.Sprintf(", %d errors", k)
	}
	_, _ = fmt.Fprintf(p.stderr, "[%d/%d] %s (%s) in %s\n", len(p.ended), p.total, word, counts, r.Duration.Round(10*time.Millisecond))
}

// distinctOutputs reports a usage error when two reports (--output and
// --report, or two --report) would write the same file.
func distinctOutputs(output string, reports reportList) error {
	type dest struct{ flag, path string }
	var all []dest
	if output != "" {
		all = append(all, dest{"--output", output})
	}
	for _, r := range reports {
		all = append(all, dest{"--report " + r.format + "=" + r.file, r.file})
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if samePath(all[i].path, all[j].path) {
				return fmt.Errorf("%s and %s write the same file %s; give each report a file of its own", all[i].flag, all[j].flag, all[j].path)
			}
		}
	}
	return nil
}

// samePath reports whether a and b name the same file: the same absolute
// path, or, for existing files, the same inode (links).
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
