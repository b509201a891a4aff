package engine

import (
	"fmt"
	"path"
	"strings"

	"github.com/echoconf/echoconf/spec"
)

// matchPattern reports whether pattern selects check c: a pattern with a
// slash is a path.Match glob on the ID; one without a slash is a glob on
// the category ("halfclose" means "halfclose/*").
func matchPattern(pattern string, c spec.Check) (bool, error) {
	subject := c.ID
	if !strings.Contains(pattern, "/") {
		subject = c.Category()
	}
	ok, err := path.Match(pattern, subject)
	if err != nil {
		return false, fmt.Errorf("invalid pattern %q: %w", pattern, err)
	}
	return ok, nil
}

// validatePattern rejects a malformed glob even when no check reaches the
// malformed part of it.
func validatePattern(pattern string) error {
	if strings.TrimSpace(pattern) == "" {
		return fmt.Errorf("empty pattern")
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("invalid pattern %q: %w", pattern, err)
	}
	return nil
}

// Select returns the checks of o.Checks (spec.All() when nil) that o.Run
// and o.Skip select, in catalogue order. It fails on a malformed pattern
// and on a pattern that matches no check, since a typo would otherwise
// silently run nothing.
func Select(o Options) ([]spec.Check, error) {
	checks := o.Checks
	if checks == nil {
		checks = spec.All()
	}
	sel, err := selection(checks, o.Run, o.Skip)
	if err != nil {
		return nil, err
	}
	var out []spec.Check
	for i, c := range checks {
		if sel[i] {
			out = append(out, c)
		}
	}
	return out, nil
}

// QuoteGlob quotes the path.Match metacharacters in id, so that the
// pattern selects that check alone.
func QuoteGlob(id string) string {
	var b strings.Builder
	for _, r := range id {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// selection reports which checks the run and skip patterns select (see
// Options.Run).
func selection(checks []spec.Check, run, skip []string) ([]bool, error) {
	sel := make([]bool, len(checks))
	for _, list := range [][]string{run, skip} {
		for _, p := range list {
			if err := validatePattern(p); err != nil {
				return nil, err
			}
		}
	}
	hit := func(p string) (bool, error) {
		for _, c := range checks {
			ok, err := matchPattern(p, c)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	for _, list := range [][]string{run, skip} {
		for _, p := range list {
			ok, err := hit(p)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("pattern %q matches no check (see echoconf list)", p)
			}
		}
	}
	for i, c := range checks {
		in := len(run) == 0
		for _, p := range run {
			if ok, _ := matchPattern(p, c); ok {
				in = true
				break
			}
		}
		for _, p := range skip {
			if ok, _ := matchPattern(p, c); ok {
				in = false
				break
			}
		}
		sel[i] = in
	}
	return sel, nil
}
