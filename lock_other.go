//go:build !unix

package oauth2x

import (
	"errors"
	"os"
)

// tryLockFile is unsupported off Unix: FileStore's lock then fails clearly
// instead of silently not excluding anyone.
func tryLockFile(*os.File) (bool, error) {
	return false, errors.New("oauth2x: FileStore locking needs a Unix system")
}

func unlockFile(*os.File) {}
