package oauth2x

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// MemoryStore is a [Store] and [Locker] in memory, for many token sources
// in one process. It holds the encoded token, so what it hands back is what
// a persistent store would. It is safe for concurrent use; use
// [NewMemoryStore] to make one.
type MemoryStore struct {
	mu   sync.Mutex // guards data
	data []byte
	lock chan struct{} // a token in the channel is the lock
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{lock: make(chan struct{}, 1)}
}

// Load returns the stored token, or (nil, nil) when there is none.
func (m *MemoryStore) Load(context.Context) (*oauth2.Token, error) {
	m.mu.Lock()
	data := m.data
	m.mu.Unlock()
	if data == nil {
		return nil, nil
	}
	return UnmarshalToken(data)
}

// Save stores t.
func (m *MemoryStore) Save(_ context.Context, t *oauth2.Token) error {
	data, err := MarshalToken(t)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.data = data
	m.mu.Unlock()
	return nil
}

// Lock takes the store's lock, waiting until it is free or ctx is done.
func (m *MemoryStore) Lock(ctx context.Context) (func(), error) {
	select {
	case m.lock <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-m.lock }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// FileStore is a [Store] and [Locker] in one file, for processes on one
// machine: writes go to a temporary file that is renamed over the old one,
// with mode 0600; the lock is an advisory lock on Path+".lock" that the
// system releases when its holder dies. It is safe for concurrent use.
type FileStore struct {
	// Path is the token file. Its directory is created (mode 0700) on the
	// first Save.
	Path string
}

// NewFileStore returns a FileStore for the file at path.
func NewFileStore(path string) *FileStore { return &FileStore{Path: path} }

// Load reads the token file; a missing file is (nil, nil).
func (f *FileStore) Load(context.Context) (*oauth2.Token, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return UnmarshalToken(data)
}

// Save writes t atomically with mode 0600.
func (f *FileStore) Save(_ context.Context, t *oauth2.Token) error {
	data, err := MarshalToken(t)
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(f.Path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Path)
}

// Delete removes the token file; a missing file is not an error.
func (f *FileStore) Delete() error {
	err := os.Remove(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Lock takes the lock file's lock, waiting until it is free or ctx is done.
func (f *FileStore) Lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(f.Path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	wait := time.Millisecond
	for {
		ok, err := tryLockFile(lf)
		if err != nil {
			lf.Close()
			return nil, err
		}
		if ok {
			var once sync.Once
			return func() {
				once.Do(func() {
					unlockFile(lf)
					lf.Close()
				})
			}, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			lf.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
