package oauth2x

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/oauth2"
)

// NewKeyedMemoryStore returns a [KeyedStore] and [KeyedLocker] in memory,
// for one process. It holds each token encoded, so what it hands back is
// what a persistent store would. It is safe for concurrent use.
func NewKeyedMemoryStore() KeyedStore {
	return &keyedMemoryStore{data: map[string][]byte{}, keyLocks: newKeyLocks()}
}

type keyedMemoryStore struct {
	mu   sync.Mutex // guards data
	data map[string][]byte
	*keyLocks
}

func (s *keyedMemoryStore) Load(_ context.Context, key string) (*oauth2.Token, error) {
	s.mu.Lock()
	data, ok := s.data[key]
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return UnmarshalToken(data)
}

func (s *keyedMemoryStore) Save(_ context.Context, key string, t *oauth2.Token) error {
	data, err := MarshalToken(t)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.data[key] = data
	s.mu.Unlock()
	return nil
}

func (s *keyedMemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.data, key)
	s.mu.Unlock()
	return nil
}

// KeyedFileStore is a [KeyedStore] and [KeyedLocker] in a directory, one
// file per key, for processes on one machine. Each key's file is a
// [FileStore], with its rules: atomic writes with mode 0600, and a lock
// file beside it that the system releases when its holder dies. It is safe
// for concurrent use.
type KeyedFileStore struct {
	// Dir holds the files. It is created (mode 0700) on the first Save.
	Dir string
}

// NewKeyedFileStore returns a KeyedFileStore in dir.
func NewKeyedFileStore(dir string) *KeyedFileStore { return &KeyedFileStore{Dir: dir} }

// File returns the FileStore that holds key's token. Its name is "k-", the
// key with every byte other than a-z, 0-9, '-' and '_' written %XX (so
// keys differing only in case do not share a file on a case-insensitive
// file system), and ".json"; a key whose name would be longer than 200
// bytes is named by its SHA-256 instead.
func (s *KeyedFileStore) File(key string) *FileStore {
	return NewFileStore(filepath.Join(s.Dir, fileName(key)))
}

func fileName(key string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteString("k-")
	for i := 0; i < len(key) && b.Len() <= 200; i++ {
		switch c := key[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		}
	}
	if b.Len() > 200 {
		sum := sha256.Sum256([]byte(key))
		return "h-" + hex.EncodeToString(sum[:]) + ".json"
	}
	return b.String() + ".json"
}

// Load reads key's file; a missing file is (nil, nil).
func (s *KeyedFileStore) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	return s.File(key).Load(ctx)
}

// Save writes key's file atomically with mode 0600.
func (s *KeyedFileStore) Save(ctx context.Context, key string, t *oauth2.Token) error {
	return s.File(key).Save(ctx, t)
}

// Delete removes key's file; a missing file is not an error. The lock file
// stays: a process may be waiting on it.
func (s *KeyedFileStore) Delete(_ context.Context, key string) error {
	return s.File(key).Delete()
}

// Lock takes key's lock file's lock, waiting until it is free or ctx is
// done.
func (s *KeyedFileStore) Lock(ctx context.Context, key string) (func(), error) {
	return s.File(key).Lock(ctx)
}
