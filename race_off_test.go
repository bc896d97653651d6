//go:build !race

package oauth2x

const raceEnabled = false
