package oauthtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Children runs procs copies of this test binary at once, each running
// only the test named run, with env added to its environment. Each child
// calls [Ready] once it is set up; Children lets them all go at once when
// every one is ready, and returns what each printed. A child that fails
// fails t.
func Children(t testing.TB, procs int, run string, env ...string) []string {
	t.Helper()
	outs := make([]string, procs)
	stdins := make([]io.WriteCloser, procs)
	ready := make(chan struct{}, procs)
	var wg sync.WaitGroup
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), env...)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stdins[i] = in
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b strings.Builder
			sc := bufio.NewScanner(out)
			signalled := false
			for sc.Scan() {
				b.WriteString(sc.Text() + "\n")
				if !signalled && sc.Text() == "READY" {
					signalled = true
					ready <- struct{}{}
				}
			}
			if !signalled {
				ready <- struct{}{} // it failed before getting ready
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("child %d: %v\n%s", i, err, b.String())
			}
			outs[i] = b.String()
		}()
	}
	for range procs {
		<-ready
	}
	for _, in := range stdins {
		in.Close()
	}
	wg.Wait()
	return outs
}

// Ready is called by a child of [Children] once it is set up: it says so
// and waits until every child is.
func Ready() {
	fmt.Println("READY")
	io.Copy(io.Discard, os.Stdin)
}

// Report prints a child's result for [ParseReport].
func Report(calls int, errs []error) {
	fmt.Printf("RESULT calls=%d failed=%d\n", calls, len(errs))
	for i, err := range errs {
		if i == 5 {
			break
		}
		fmt.Printf("ERROR %v\n", err)
	}
}

// ParseReport reads what [Report] printed in a child's output.
func ParseReport(out string) (calls, failed int, ok bool) {
	for _, line := range strings.Split(out, "\n") {
		if _, err := fmt.Sscanf(line, "RESULT calls=%d failed=%d", &calls, &failed); err == nil {
			return calls, failed, true
		}
	}
	return 0, 0, false
}

// KeyedStore is what [ExpiryRounds] needs of a store of many tokens.
type KeyedStore interface {
	Load(ctx context.Context, key string) (*oauth2.Token, error)
	Save(ctx context.Context, key string, t *oauth2.Token) error
}

// Workers is how many goroutines each child of [ExpiryRounds] calls from.
const Workers = 8

// ExpiryRounds runs rounds of: every key's token in store expires (the
// first round grants it from rot); procs children running the test named
// child (which calls [Ready], then asks for every key with [CallAll] from
// [Workers] goroutines, then calls [Report]) all call at once. After each
// round it checks that no call failed, that each key was refreshed exactly
// once per round, that no refresh presented a dead refresh token, and that
// the stored refresh token is the live one: none was lost.
func ExpiryRounds(t testing.TB, rot *Rotating, store KeyedStore, keys []string, rounds, procs int, child string, env ...string) {
	t.Helper()
	ctx := context.Background()
	for round := 1; round <= rounds; round++ {
		for _, k := range keys {
			var tok *oauth2.Token
			if round == 1 {
				tok = rot.Grant(k, time.Now().Add(-time.Minute))
			} else {
				tok, _ = store.Load(ctx, k)
				tok.Expiry = time.Now().Add(-time.Minute) // expired again
			}
			if err := store.Save(ctx, k, tok); err != nil {
				t.Fatal(err)
			}
		}
		outs := Children(t, procs, child, env...)
		for i, out := range outs {
			calls, failed, ok := ParseReport(out)
			if !ok || failed != 0 || calls != Workers*len(keys) {
				t.Errorf("round %d child %d: %d calls, %d failed:\n%s", round, i, calls, failed, out)
			}
		}
		for _, k := range keys {
			if n := rot.Refreshes(k); n != round {
				t.Fatalf("round %d: %s refreshed %d times in all, want %d", round, k, n, round)
			}
			if tok, err := store.Load(ctx, k); err != nil || tok.RefreshToken != rot.Live(k) {
				t.Fatalf("round %d: %s stored %v, %v; live refresh token %s", round, k, tok, err, rot.Live(k))
			}
		}
		if n := rot.Reused(); n != 0 {
			t.Fatalf("round %d: %d refreshes presented a dead refresh token", round, n)
		}
	}
}
