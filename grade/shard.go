package grade

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxShards bounds Shard.Count.
const MaxShards = 10000

// Shard selects the Index-th of Count disjoint parts of a class. Index
// counts from 0, as a Kubernetes Indexed Job's JOB_COMPLETION_INDEX does.
// The zero value is the whole class.
//
// Submission i of the class, in sorted name order, belongs to shard
// i mod Count: the shards are disjoint, together cover the class exactly
// once, differ in size by at most one, and do not depend on the order in
// which the file system lists the class. Every machine must see the same
// class directory; merge refuses runs that saw different ones.
type Shard struct {
	Index, Count int
}

// ParseShard parses "K/N", with 0 <= K < N <= MaxShards.
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("invalid shard %q: want K/N, such as 0/3 (shards count from 0)", s)
	}
	ki, errK := strconv.Atoi(k)
	ni, errN := strconv.Atoi(n)
	if errK != nil || errN != nil {
		return Shard{}, fmt.Errorf("invalid shard %q: K and N must be integers, such as 0/3", s)
	}
	if ni < 1 || ni > MaxShards {
		return Shard{}, fmt.Errorf("invalid shard %q: N must be in 1..%d", s, MaxShards)
	}
	sh := Shard{Index: ki, Count: ni}
	return sh, sh.validate()
}

func (s Shard) validate() error {
	switch {
	case s.Count == 0 && s.Index == 0:
		return nil
	case s.Count < 1 || s.Count > MaxShards:
		return fmt.Errorf("invalid shard %d/%d: N must be in 1..%d", s.Index, s.Count, MaxShards)
	case s.Index < 0 || s.Index >= s.Count:
		return fmt.Errorf("invalid shard %d/%d: K must be in 0..%d (shards count from 0)", s.Index, s.Count, s.Count-1)
	}
	return nil
}

// whole reports whether s is the whole class.
func (s Shard) whole() bool { return s.Count <= 1 }

// String returns "K/N", or "0/1" for the whole class.
func (s Shard) String() string {
	if s.Count == 0 {
		return "0/1"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Of returns the submissions of the sorted class list that belong to s.
func (s Shard) Of(class []string) []string {
	if s.whole() {
		return append([]string(nil), class...)
	}
	var out []string
	for i, name := range class {
		if i%s.Count == s.Index {
			out = append(out, name)
		}
	}
	return out
}

// shardOf returns the index of the shard of count that holds class[i].
func shardOf(i, count int) int {
	if count <= 1 {
		return 0
	}
	return i % count
}
