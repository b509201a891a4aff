package adversary_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// clientResult is every run of one client of the gallery, and the checks
// it failed.
type clientResult struct {
	prog     clientProgram
	ex       map[string]exchange // by run name
	runs     map[string]outcome  // by run name
	failures map[string]string   // check ID to diagnosis
}

// runGallery builds every client and runs each against every behaviour
// its checks need, parallel runs at a time, and judges every check.
func runGallery(ctx context.Context, m *clientManifest, dir string, parallel int) (map[string]*clientResult, error) {
	if _, err := exec.LookPath(compiler()); err != nil {
		return nil, fmt.Errorf("no C compiler: %w", err)
	}
	buildStart := time.Now()
	bins := make(map[string]string)
	var buildErrs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	builders := make(chan struct{}, 2)
	for _, p := range m.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			builders <- struct{}{}
			defer func() { <-builders }()
			bin, err := buildClient(ctx, m, p, dir)
			mu.Lock()
			defer mu.Unlock()
			bins[p.Name] = bin
			buildErrs = append(buildErrs, err)
		}()
	}
	wg.Wait()
	if err := errors.Join(buildErrs...); err != nil {
		return nil, err
	}
	GinkgoWriter.Printf("built %d clients in %v\n", len(bins), time.Since(buildStart).Round(time.Millisecond))

	results := make(map[string]*clientResult)
	type job struct {
		res *clientResult
		rs  runSpec
		ex  exchange
	}
	var jobs []job
	for _, p := range m.Clients {
		res := &clientResult{prog: p, ex: map[string]exchange{}, runs: map[string]outcome{}, failures: map[string]string{}}
		results[p.Name] = res
		for _, rs := range runSpecs {
			needed := slices.ContainsFunc(clientChecks, func(c clientCheck) bool { return c.Run == rs.name && c.appliesTo(p.Shape) })
			if !needed {
				continue
			}
			ex := newExchange(p.Shape, rs.large)
			res.ex[rs.name] = ex
			jobs = append(jobs, job{res, rs, ex})
		}
	}
	// The longest runs first, so that they overlap the short ones.
	slices.SortStableFunc(jobs, func(a, b job) int { return int(b.rs.limit - a.rs.limit) })

	sem := make(chan struct{}, parallel)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			o := runClient(dir, bins[j.res.prog.Name], j.res.prog, j.rs, j.ex)
			mu.Lock()
			j.res.runs[j.rs.name] = o
			mu.Unlock()
		}()
	}
	wg.Wait()
	var slowest []string
	for _, res := range results {
		for name, o := range res.runs {
			if o.elapsed > 4*time.Second {
				slowest = append(slowest, fmt.Sprintf("%s/%s %v", res.prog.Name, name, o.elapsed.Round(100*time.Millisecond)))
			}
		}
	}
	slices.Sort(slowest)
	GinkgoWriter.Printf("%d runs; over 4 s: %v\n", len(jobs), slowest)

	for _, res := range results {
		for _, c := range clientChecks {
			if !c.appliesTo(res.prog.Shape) {
				continue
			}
			o := res.runs[c.Run]
			if o.err != nil {
				return nil, fmt.Errorf("%s, run %s: %w", res.prog.Name, c.Run, o.err)
			}
			if d := c.Judge(res.ex[c.Run], o); d != "" {
				res.failures[c.ID] = d
			}
		}
	}
	return results, nil
}

// compiler is the C compiler: $CC when set, otherwise gcc.
func compiler() string {
	if cc := os.Getenv("CC"); cc != "" {
		return cc
	}
	return "gcc"
}

var _ = Describe("the gallery of C clients (testdata/clients.json) against the adversary", Ordered, ContinueOnFailure, func() {
	m, loadErr := loadClients(filepath.Join(testdataDir(), clientsFile), clientChecks)
	var results map[string]*clientResult

	BeforeAll(func(ctx SpecContext) {
		Expect(loadErr).NotTo(HaveOccurred())
		start := time.Now()
		var err error
		results, err = runGallery(ctx, m, GinkgoT().TempDir(), 16)
		Expect(err).NotTo(HaveOccurred())
		GinkgoWriter.Printf("the gallery: %d clients in %v\n", len(results), time.Since(start).Round(time.Millisecond))
	}, NodeTimeout(90*time.Second))

	It("loads a manifest that names every client source in testdata/c/clients", func() {
		Expect(loadErr).NotTo(HaveOccurred())
		sources, err := filepath.Glob(filepath.Join(testdataDir(), "c", "clients", "*.c"))
		Expect(err).NotTo(HaveOccurred())
		var named []string
		for _, p := range m.Clients {
			for _, s := range p.Sources {
				if strings.HasPrefix(s, "c/clients/") {
					named = append(named, filepath.Join(testdataDir(), filepath.FromSlash(s)))
				}
			}
		}
		slices.Sort(named)
		Expect(named).To(Equal(sources))
	})

	if loadErr != nil {
		return // the spec above reports it
	}
	for _, p := range m.Clients {
		want := slices.Concat([]string{}, p.Expect.Fail, p.Expect.Warn)
		slices.Sort(want)
		It(fmt.Sprintf("%s (%s, %s) fails exactly %v", p.Name, p.Kind, p.Shape, want), func() {
			res := results[p.Name]
			got := make([]string, 0, len(res.failures))
			for id := range res.failures {
				got = append(got, id)
			}
			slices.Sort(got)
			var diag strings.Builder
			for _, id := range got {
				fmt.Fprintf(&diag, "  %s: %s\n", id, res.failures[id])
			}
			Expect(cmp.Diff(want, got, cmpopts.EquateEmpty())).To(BeEmpty(), "failing checks (-want +got); diagnoses:\n%s", diag.String())
		})
	}

	It("leaves no process behind: every client's process group is gone after its run", func() {
		for name, res := range results {
			for run, o := range res.runs {
				Expect(o.leftovers).To(BeFalse(), "%s, run %s", name, run)
			}
		}
	})

	It("sees the NUL terminator and the sizeof padding in the bytes received", func() {
		o, ex := results["sends-nul"].runs["echo"], results["sends-nul"].ex["echo"]
		Expect(o.rec.Received).To(Equal(append([]byte(ex.message), 0)))
		o, ex = results["sizeof-buf"].runs["echo"], results["sizeof-buf"].ex["echo"]
		Expect(o.rec.Received).To(HaveLen(64))
		Expect(o.rec.Received).To(HavePrefix(ex.message))
		Expect(bytes.Trim(o.rec.Received[len(ex.message):], "\x00")).To(BeEmpty())
		// The correct argument client sends the word and nothing else.
		o, ex = results["arg-client"].runs["echo"], results["arg-client"].ex["echo"]
		Expect(o.rec.Received).To(Equal([]byte(ex.message)))
	})

	It("sees the reads-once client print only part of a 1-byte-paced echo, and exit 0", func() {
		o, ex := results["reads-once"].runs["trickle"], results["reads-once"].ex["trickle"]
		Expect(o.exited).To(BeTrue())
		Expect(o.code).To(Equal(0))
		printed := strings.TrimSuffix(strings.TrimPrefix(string(o.stdout), "Received: "), "\n")
		Expect(ex.message).To(HavePrefix(printed))
		Expect(len(printed)).To(BeNumerically("<", len(ex.message)))
		// The same client prints the prompt echo whole.
		o, ex = results["reads-once"].runs["echo"], results["reads-once"].ex["echo"]
		Expect(string(o.stdout)).To(Equal("Received: " + ex.message + "\n"))
	})

	It("sees the spin client use over half a CPU after EOF, and the correct clients none", func() {
		o := results["spin-on-eof"].runs["close-half"]
		Expect(o.exited).To(BeFalse(), "it spins until killed")
		GinkgoWriter.Printf("spin-on-eof after EOF: runnable %.0f%%, cpu %.0f%%\n", 100*o.runnable, 100*o.cpu)
		Expect(o.runnable).To(BeNumerically(">", spinLimit))
		for _, name := range []string{"arg-client", "line-client", "stream-client", "echo-client"} {
			o := results[name].runs["close-half"]
			Expect(o.exited).To(BeTrue(), name)
			Expect(o.runnable).To(BeNumerically("<=", spinLimit), name)
		}
	})

	It("sees the write-everything client deadlock on 8 MiB, and the stream clients stream it", func() {
		// The server's echo stalls until it gives up writing (largeStall);
		// then it drains the rest, so the client finishes sending, reads
		// the little echo there was, and reports the early close.
		o, ex := results["write-all-first"].runs["large"], results["write-all-first"].ex["large"]
		Expect(o.rec.WriteErr).To(MatchError(os.ErrDeadlineExceeded))
		Expect(o.rec.Sent).To(BeNumerically("<", len(ex.sent)/4))
		Expect(len(o.stdout)).To(BeNumerically("<", len(ex.sent)/4))
		GinkgoWriter.Printf("write-all-first: %d of %d bytes echoed before the deadlock\n", o.rec.Sent, len(ex.sent))
		for _, name := range []string{"stream-client", "echo-client"} {
			o, ex := results[name].runs["large"], results[name].ex["large"]
			Expect(o.exited).To(BeTrue(), name)
			Expect(o.code).To(Equal(0), "%s: %s", name, o.stderr)
			Expect(firstDiff(o.stdout, ex.sent)).To(Equal(-1), name)
			GinkgoWriter.Printf("%s: 8 MiB through in %v\n", name, o.elapsed.Round(time.Millisecond))
		}
	})

	It("sees the printf client print stale bytes after a shorter echo", func() {
		o, ex := results["printf-unterminated"].runs["echo"], results["printf-unterminated"].ex["echo"]
		first, second := ex.pieces[0], ex.pieces[1]
		stale := first[len(second):]
		Expect(o.stdout).To(HavePrefix(string(first) + string(second) + string(stale)))
		// The correct interactive client prints exactly the lines.
		o, ex = results["line-client"].runs["echo"], results["line-client"].ex["echo"]
		Expect(o.stdout).To(Equal(ex.stdin))
	})

	It("runs the classic client interactively on a terminal: a line, then its echo, then the next", func() {
		o, ex := results["echo-client-tty"].runs["delay"], results["echo-client-tty"].ex["delay"]
		Expect(o.stdout).To(Equal(ex.stdin))
		// Each line waits for the previous echo, which the server holds
		// for 1.5 s; in pipe mode the lines go out together.
		delay := runSpecs[slices.IndexFunc(runSpecs, func(r runSpec) bool { return r.name == "delay" })].cfg.Delay
		Expect(o.elapsed).To(BeNumerically(">=", time.Duration(len(ex.pieces))*delay))
		Expect(o.rec.Writes).To(HaveLen(len(ex.pieces)), "one echo write per line")
	})

	It("sees the error-ignoring client exit 0 silently after a reset, and the correct one complain", func() {
		o := results["ignores-errors"].runs["reset"]
		Expect(o.exited).To(BeTrue())
		Expect(o.code).To(Equal(0))
		Expect(o.stderr).To(BeEmpty())
		o = results["arg-client"].runs["reset"]
		Expect(o.code).To(Equal(1))
		Expect(string(o.stderr)).To(ContainSubstring("recv: Connection reset by peer"))
	})

	It("sees the read-until-EOF client keep its connection open after the echo, until its own timeout", func() {
		o, ex := results["reads-until-eof"].runs["echo"], results["reads-until-eof"].ex["echo"]
		Expect(o.rec.Sent).To(BeEquivalentTo(len(ex.message)), "the server echoed")
		Expect(o.rec.ClientEndAt - o.rec.LastWriteAt).To(BeNumerically(">", closeGrace))
		Expect(o.exited).To(BeTrue())
		Expect(o.code).To(Equal(1))
		Expect(string(o.stderr)).To(ContainSubstring("giving up"))
	})

	It("sees the client without a timeout wait on a silent server, and the correct ones give up with a message", func() {
		o := results["no-timeout"].runs["silent"]
		Expect(o.exited).To(BeFalse())
		for _, name := range []string{"arg-client", "line-client", "stream-client", "echo-client"} {
			o := results[name].runs["silent"]
			Expect(o.exited).To(BeTrue(), name)
			Expect(o.code).To(Equal(1), name)
			Expect(string(o.stderr)).To(ContainSubstring("giving up"), name)
		}
	})
})
