//go:build !unix || oauth2x_markerlock

package oauth2x

import (
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
