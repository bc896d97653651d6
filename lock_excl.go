package oauth2x

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"time"
)

// staleLock is how old a lock marker must be before it is taken to belong
// to a holder that died: twice the default RefreshTimeout.
const staleLock = 2 * defaultRefreshTimeout

// tryExclusive takes a lock by creating the marker file at path, which
// fails while another holder has it. A marker older than staleLock is
// removed first: its holder died without unlocking. Used where the system
// has no flock.
func tryExclusive(path string, now time.Time) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(path); serr == nil && now.Sub(fi.ModTime()) > staleLock {
			os.Remove(path)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = f.WriteString(strconv.Itoa(os.Getpid()))
	return true, errors.Join(err, f.Close())
}
