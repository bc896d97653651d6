//go:build race

package oauth2x

// raceEnabled: the race detector slows goroutines down and caps them at
// 8128, so some tests run at a smaller scale under it.
const raceEnabled = true
