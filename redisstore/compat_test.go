package redisstore_test

import "sync"

// goGroup runs f in a goroutine counted by wg: sync.WaitGroup.Go, which
// needs Go 1.25, while this module's floor is the core's, Go 1.24.
func goGroup(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		f()
	}()
}
