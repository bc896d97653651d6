package oauth2x

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
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

// Load returns the stored token, or (nil, nil) when there is none. It
// returns ctx's error when ctx is done.
func (m *MemoryStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	data := m.data
	m.mu.Unlock()
	if data == nil {
		return nil, nil
	}
	return UnmarshalToken(data)
}

// Save stores t. It returns ctx's error, and stores nothing, when ctx is
// done.
func (m *MemoryStore) Save(ctx context.Context, t *oauth2.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
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
// The lock is released by unlock or when ctx is done.
func (m *MemoryStore) Lock(ctx context.Context) (func(), error) {
	select {
	case m.lock <- struct{}{}:
		return releasing(ctx, func() { <-m.lock }), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// releasing returns an unlock that runs release once, and runs it when ctx
// is done if unlock was not called first.
func releasing(ctx context.Context, release func()) func() {
	var once sync.Once
	unlock := func() { once.Do(release) }
	stop := context.AfterFunc(ctx, unlock)
	return func() {
		stop()
		unlock()
	}
}

// FileStore is a [Store] and [Locker] in one file, for processes on one
// machine. Save writes a temporary file beside it, syncs it, renames it
// over the old one and syncs the directory, with mode 0600; a process
// killed between the write and the rename leaves a complete temporary
// file, which Load takes when it is newer than the token file, so the
// token (and its rotated refresh token) is not lost. The lock is an
// advisory flock on Path+".lock" that the system releases when its holder
// dies; where there is no flock, a marker file Path+".lock.held" holding a
// lease its holder renews (see [Locker]). It is safe for concurrent use.
type FileStore struct {
	// Path is the token file. Its directory is created (mode 0700) on the
	// first Save.
	Path string
}

// NewFileStore returns a FileStore for the file at path.
func NewFileStore(path string) *FileStore { return &FileStore{Path: path} }

// tempPattern names Save's temporary files beside the token file.
func (f *FileStore) tempPattern() string { return filepath.Base(f.Path) + ".tmp*" }

// Load reads the token file; a missing file is (nil, nil). A complete
// temporary file that Save left behind (its process was killed before the
// rename) is returned instead when its token is newer.
func (f *FileStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var tok *oauth2.Token
	data, err := os.ReadFile(f.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if tok, err = UnmarshalToken(data); err != nil {
			return nil, err
		}
	}
	for _, orphan := range f.orphans() {
		if t, err := readToken(orphan); err == nil && newer(t, tok) {
			tok = t
		}
	}
	return tok, nil
}

// orphans returns the temporary files beside the token file.
func (f *FileStore) orphans() []string {
	names, _ := filepath.Glob(filepath.Join(filepath.Dir(f.Path), f.tempPattern()))
	return names
}

func readToken(path string) (*oauth2.Token, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return UnmarshalToken(data)
}

// orphanAge is how old an unreadable temporary file must be before Save
// removes it: younger, it may be another process's write in progress.
const orphanAge = time.Minute

// Save writes t atomically with mode 0600, then removes the temporary
// files earlier Saves left behind whose tokens are not newer than t.
func (f *FileStore) Save(ctx context.Context, t *oauth2.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := MarshalToken(t)
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	orphans := f.orphans()
	tmp, err := os.CreateTemp(dir, f.tempPattern())
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
	if afterTempWrite != nil {
		afterTempWrite(tmp.Name())
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	for _, o := range orphans {
		if old, err := readToken(o); err == nil && !newer(old, t) {
			os.Remove(o)
		} else if fi, err := os.Stat(o); err == nil && time.Since(fi.ModTime()) > orphanAge {
			os.Remove(o)
		}
	}
	return nil
}

// afterTempWrite, when set (by tests), runs between writing Save's
// temporary file and renaming it.
var afterTempWrite func(tmp string)

// syncDir makes a rename in dir durable. Systems that cannot open or sync
// a directory (Windows) make renames durable on their own.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	if err := d.Sync(); err != nil && runtime.GOOS != "windows" {
		return err
	}
	return nil
}

// Delete removes the token file and any temporary files Save left behind;
// a missing file is not an error.
func (f *FileStore) Delete() error {
	for _, o := range f.orphans() {
		os.Remove(o)
	}
	err := os.Remove(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Lock takes the lock file's lock, waiting until it is free or ctx is
// done. The lock is released by unlock or when ctx is done.
func (f *FileStore) Lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return nil, err
	}
	wait := time.Millisecond
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		release, ok, err := tryLockFile(f.Path + ".lock")
		if err != nil {
			return nil, err
		}
		if ok {
			return releasing(ctx, release), nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
