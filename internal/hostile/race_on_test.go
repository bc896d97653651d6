//go:build race

package hostile_test

// raceEnabled: the race detector slows goroutines down tenfold and caps
// them at 8128, so the load test runs at a smaller scale under it.
const raceEnabled = true
