package main_test

import (
	"sync"

	. "github.com/onsi/ginkgo/v2"
)

// concurrently runs f(0), ..., f(n-1), at most limit at a time, each in its
// own goroutine, and returns when every one has returned. A failed
// assertion in f fails the spec (GinkgoRecover) and ends that call only.
// It is for runs that mostly wait (on servers, timeouts, child
// processes), so that a spec of many independent runs takes the time of a
// few.
func concurrently(n, limit int, f func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			defer GinkgoRecover()
			f(i)
		})
	}
	wg.Wait()
}
