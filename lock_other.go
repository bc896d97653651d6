//go:build !unix || oauth2x_markerlock

package oauth2x

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
)

// markerLease is how long a lock marker lasts without being renewed. Its
// holder renews it every markerLease/3 until it unlocks or the context it
// locked with ends (so a holder stays as long as Options.RefreshTimeout
// lets it); a holder that dies stops renewing, and its marker is stale at
// most markerLease later.
const markerLease = 30 * time.Second

// tryLockFile takes the lock at path with a marker file beside it: this
// system has no flock (or the build asked for markers with the
// oauth2x_markerlock tag). The marker's lease is renewed until release is
// called; a holder that dies leaves a marker that goes stale (see
// markerLease). ok is false while another holder has the lock.
func tryLockFile(path string) (release func(), ok bool, err error) {
	m, err := takeMarker(path+".held", markerLease, time.Now())
	if m == nil || err != nil {
		return nil, false, err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(markerLease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if !m.renew(markerLease, time.Now()) {
					return
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		m.release()
	}, true, nil
}

// marker is a lock held by a marker file, for systems without flock (and
// for Linux builds tagged oauth2x_markerlock, so that CI exercises it). The
// file holds the lease's deadline; this holder keeps it open, so whether
// the path still names its own file (os.SameFile) says whether it still
// holds the lock, whatever another process did meanwhile.
type marker struct {
	path string
	f    *os.File
	mu   sync.Mutex // serialises renew and release
	done bool
}

const deadlineWidth = 20 // decimal digits of a deadline in Unix nanoseconds

func writeDeadline(f *os.File, t time.Time) error {
	_, err := f.WriteAt(fmt.Appendf(nil, "%0*d\n", deadlineWidth, t.UnixNano()), 0)
	return err
}

func readDeadline(data []byte) (time.Time, bool) {
	if len(data) < deadlineWidth {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(string(data[:deadlineWidth]), 10, 64)
	return time.Unix(0, n), err == nil
}

// takeMarker takes the lock at path unless another holder's lease on it
// is still running; (nil, nil) means it is held. A stale marker is moved
// aside atomically (a rename) and removed only if it is the very file
// judged stale; a fresh marker that took its place meanwhile is put back.
func takeMarker(path string, lease time.Duration, now time.Time) (*marker, error) {
	for range 2 { // a second try after removing a stale marker
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			if err := writeDeadline(f, now.Add(lease)); err != nil {
				f.Close()
				os.Remove(path)
				return nil, err
			}
			return &marker{path: path, f: f}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		judged, stale := staleMarker(path, lease, now)
		if !stale {
			return nil, nil
		}
		aside := path + ".stale-" + randomSuffix()
		if os.Rename(path, aside) != nil {
			return nil, nil // someone else moved it first
		}
		if fi, err := os.Stat(aside); err != nil || !os.SameFile(judged, fi) {
			restore(aside, path) // a fresh holder's marker: not ours to remove
			return nil, nil
		}
		os.Remove(aside)
	}
	return nil, nil
}

// staleMarker reports whether the marker at path has outlived its lease,
// and which file it judged. A marker without a readable deadline (its
// holder is writing it) is stale once its file is older than a lease.
func staleMarker(path string, lease time.Duration, now time.Time) (fs.FileInfo, bool) {
	g, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer g.Close()
	fi, err := g.Stat()
	if err != nil {
		return nil, false
	}
	data, _ := io.ReadAll(io.LimitReader(g, 64))
	if dl, ok := readDeadline(data); ok {
		return fi, !now.Before(dl)
	}
	return fi, now.Sub(fi.ModTime()) > lease
}

// restore puts a marker moved aside back at path, unless path is taken.
func restore(aside, path string) {
	_ = os.Link(aside, path)
	os.Remove(aside)
}

// mine reports whether path still names m's file.
func (m *marker) mine() bool {
	fi, err := os.Stat(m.path)
	if err != nil {
		return false
	}
	own, err := m.f.Stat()
	return err == nil && os.SameFile(fi, own)
}

// renew extends m's lease to now+lease; false once m is no longer held.
func (m *marker) renew(lease time.Duration, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done || !m.mine() {
		return false
	}
	return writeDeadline(m.f, now.Add(lease)) == nil
}

// release removes m's marker if it is still m's: a marker another holder
// made after m's lease lapsed is left alone.
func (m *marker) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done {
		return
	}
	m.done = true
	own, err := m.f.Stat()
	m.f.Close()
	if err != nil || !m.mineAs(own) {
		return
	}
	aside := m.path + ".free-" + randomSuffix()
	if os.Rename(m.path, aside) != nil {
		return
	}
	if fi, err := os.Stat(aside); err == nil && os.SameFile(own, fi) {
		os.Remove(aside)
		return
	}
	restore(aside, m.path) // taken over between the check and the rename
}

func (m *marker) mineAs(own fs.FileInfo) bool {
	fi, err := os.Stat(m.path)
	return err == nil && os.SameFile(fi, own)
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
