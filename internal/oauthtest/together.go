package oauthtest

import "sync"

// Together runs f(0) … f(n-1) in n goroutines that have each said
// Started, so that they pile up on the gated call, and waits for all.
func (g *Gate) Together(f func(i int)) {
	var wg sync.WaitGroup
	for i := range g.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.Started()
			f(i)
		}()
	}
	wg.Wait()
}
