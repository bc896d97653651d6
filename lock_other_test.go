//go:build !unix || oauth2x_markerlock

package oauth2x

import (
	"path/filepath"
	"testing"
	"time"
)

// TestMarkerLockOwnedAndLeased is the lock used where there is no flock
// (Windows): a marker whose holder's lease lapsed is taken over, and that
// holder's late unlock leaves the new holder's marker alone, so a third
// never gets in beside it. A holder that renews keeps the lock however long
// it holds it.
func TestMarkerLockOwnedAndLeased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.lock.held")
	now := time.Now()
	const lease = time.Minute
	a, err := takeMarker(path, lease, now)
	if a == nil || err != nil {
		t.Fatalf("first take = %v, %v", a, err)
	}
	if m, err := takeMarker(path, lease, now); m != nil || err != nil {
		t.Fatalf("second take while held = %v, %v", m, err)
	}
	// A renews at 50s: at 61s its lease still runs.
	if !a.renew(lease, now.Add(50*time.Second)) {
		t.Fatal("renew of a held marker failed")
	}
	if m, _ := takeMarker(path, lease, now.Add(61*time.Second)); m != nil {
		t.Fatal("took a marker whose holder renewed it")
	}
	// A stops renewing (paused, or dead): after its lease B takes over.
	late := now.Add(50*time.Second + lease + time.Second)
	b, err := takeMarker(path, lease, late)
	if b == nil || err != nil {
		t.Fatalf("take of a stale marker = %v, %v", b, err)
	}
	if a.renew(lease, late) {
		t.Error("the old holder renewed a marker it lost")
	}
	a.release() // A wakes and unlocks: B's marker must stay
	if c, _ := takeMarker(path, lease, late); c != nil {
		t.Fatal("a third holder got in beside B after the old holder's unlock")
	}
	b.release()
	c, err := takeMarker(path, lease, late)
	if c == nil || err != nil {
		t.Fatalf("take after B's unlock = %v, %v", c, err)
	}
	c.release()
	if left, _ := filepath.Glob(path + ".*"); len(left) != 0 {
		t.Errorf("files left beside the marker: %v", left)
	}
}
