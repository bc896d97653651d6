package oauthtest

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// KeyNames returns the keys "u0" … "u<n-1>".
func KeyNames(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "u" + strconv.Itoa(i)
	}
	return keys
}

// Child is the body of a child process of [ExpiryRounds] once it has set
// up: it calls [Ready], asks for every one of KeyNames(n) through get from
// [Workers] goroutines with [CallAll], and calls [Report].
func Child(get func(ctx context.Context, key string) (*oauth2.Token, error), n int) {
	Ready()
	Report(CallAll(context.Background(), func(ctx context.Context, key string) error {
		_, err := get(ctx, key)
		return err
	}, KeyNames(n), Workers))
}

// AllAtOnce asks for every key through get at once, one goroutine per key,
// and returns how long it took until all had answered, and their errors.
func AllAtOnce(ctx context.Context, get func(ctx context.Context, key string) (*oauth2.Token, error), keys []string) (time.Duration, []error) {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	start := time.Now()
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := get(ctx, k); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return time.Since(start), errs
}
