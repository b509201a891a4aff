package spec

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// entry is one row of a category's table: the check's data and the test
// its Run delegates to.
type entry struct {
	Check
	test func(ctx context.Context, p *probe) error
}

// All returns the catalogue in catalogue order: by category (see
// Categories), and within a category in the order of its table. Each call
// returns a fresh slice that the caller may reorder or filter.
//
// Every check's Run dials fresh connections through env.Dial, puts a
// deadline on every I/O, closes everything it opened before it returns and
// recovers from its own panics, which it reports as an error (not a
// Failure). When env.Process is set and the process has ended by the time a
// check fails, the failure's Detail says so.
func All() []Check {
	var all []Check
	tables := [][]entry{basicChecks, partialChecks, largeChecks, halfCloseChecks, concurrencyChecks, robustnessChecks}
	for _, table := range tables {
		for _, e := range table {
			c := e.Check
			c.Run = bind(c.ID, e.test)
			all = append(all, c)
		}
	}
	return all
}

// Lookup returns the check with the given ID, from any catalogue: All,
// UDP or Clients.
func Lookup(id string) (Check, bool) {
	for _, c := range slices.Concat(All(), UDP(), Clients()) {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// bind makes a Run function for the check id.
func bind(id string, test func(context.Context, *probe) error) func(context.Context, *Env) error {
	return func(ctx context.Context, env *Env) (err error) {
		if env == nil || env.Dial == nil {
			return errors.New("check " + id + ": no Env.Dial to reach the target")
		}
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("check %s: internal error: %v", id, r)
			}
		}()
		return noteDeath(env, test(ctx, newProbe(id, env)))
	}
}
