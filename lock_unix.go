//go:build unix && !oauth2x_markerlock

package oauth2x

import (
	"errors"
	"os"
	"syscall"
)

// tryLockFile takes an exclusive flock on the file at path without
// blocking; the system releases it when its holder dies. Each open file
// description has its own flock, so it excludes holders in this process as
// well as in others. ok is false while another holder has the lock.
func tryLockFile(path string) (release func(), ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			err = nil
		}
		return nil, false, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, true, nil
}
