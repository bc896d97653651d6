//go:build !unix

package oauth2x

import (
	"os"
	"time"
)

// tryLockFile takes the lock by creating a marker beside the lock file:
// this system has no flock. A holder that dies leaves the marker, which
// the next holder removes once it is stale (see staleLock).
func tryLockFile(f *os.File) (bool, error) {
	return tryExclusive(f.Name()+".held", time.Now())
}

func unlockFile(f *os.File) { os.Remove(f.Name() + ".held") }
