package oauthtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
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
