package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
)

// maxFile caps what the command reads from a token or secret file: a
// token file is a few hundred bytes, a secret a few dozen.
const maxFile = 1 << 20

// readFile reads the regular file name, refusing anything else (a device
// such as /dev/zero, a FIFO that would block, a directory) and anything
// larger than maxFile, so that a file pointed elsewhere can neither hang
// the command nor fill its memory. A symbolic link is followed to the
// file it names. A missing file is fs.ErrNotExist.
func readFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if err := regular(name, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// What was opened is checked again: the name may have been replaced
	// between the two looks.
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := regular(name, fi); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("%s is larger than 1 MiB: not a file the command wrote or a secret", name)
	}
	return b, nil
}

// regular says why the file fi describes cannot be read, if it cannot.
func regular(name string, fi fs.FileInfo) error {
	switch {
	case fi.Mode().IsRegular() && fi.Size() > maxFile:
		return fmt.Errorf("%s is larger than 1 MiB: not a file the command wrote or a secret", name)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s): the command reads and writes only regular files", name, kindOfFile(fi.Mode()))
	}
	return nil
}

func kindOfFile(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// tokenFile is where the command keeps one token: a file of the JSON that
// oauth2x.MarshalToken writes, plus the endpoint the token came from
// ("endpoint": {"auth_url", "token_url"}), so that later commands reach the
// same host without --endpoint. Files without an endpoint (written before
// it was kept, or for production) read as before, and oauth2x.FileStore
// reads the command's files. It is an oauth2x.Store and Locker.
//
// A token file that is a symbolic link is written through: the link is
// kept and the file it names is replaced (atomically, in that file's
// directory), so that whatever else reads the link's target sees the new
// refresh token; logout deletes that file and leaves the link. It is safe
// for concurrent use.
type tokenFile struct {
	// Path is the file read and written: the token file, or the file its
	// symbolic link names.
	Path string
	// Endpoint, when not zero, is saved beside every token Save writes.
	Endpoint oauth2.Endpoint
	lock     *oauth2x.FileStore
}

// openTokenFile returns the token file at path, following symbolic links
// there (even to a target that does not exist yet).
func openTokenFile(path string) *tokenFile {
	target := path
	for range 40 { // as many links as Linux follows
		fi, err := os.Lstat(target)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			break
		}
		link, err := os.Readlink(target)
		if err != nil {
			break
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(target), link)
		}
		target = link
	}
	return &tokenFile{Path: target, lock: oauth2x.NewFileStore(target)}
}

// fileEndpoint is the stored form of the endpoint beside the token.
type fileEndpoint struct {
	AuthURL  string `json:"auth_url,omitempty"`
	TokenURL string `json:"token_url,omitempty"`
}

// read returns the stored token and endpoint; a missing file is (nil, zero, nil).
func (f *tokenFile) read() (*oauth2.Token, oauth2.Endpoint, error) {
	b, err := readFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, oauth2.Endpoint{}, nil
	}
	if err != nil {
		return nil, oauth2.Endpoint{}, err
	}
	t, err := oauth2x.UnmarshalToken(b)
	if err != nil {
		return nil, oauth2.Endpoint{}, err
	}
	var side struct {
		Endpoint fileEndpoint `json:"endpoint"`
	}
	json.Unmarshal(b, &side) // the token decoded, so this does
	return t, oauth2.Endpoint{AuthURL: side.Endpoint.AuthURL, TokenURL: side.Endpoint.TokenURL}, nil
}

// Load reads the token; a missing file is (nil, nil).
func (f *tokenFile) Load(context.Context) (*oauth2.Token, error) {
	t, _, err := f.read()
	return t, err
}

// Remembered returns the endpoint saved beside the token, or the zero
// endpoint when there is none.
func (f *tokenFile) Remembered() (oauth2.Endpoint, error) {
	_, e, err := f.read()
	return e, err
}

// Save writes t, with the endpoint, atomically with mode 0600.
func (f *tokenFile) Save(_ context.Context, t *oauth2.Token) error {
	b, err := oauth2x.MarshalToken(t)
	if err != nil {
		return err
	}
	if f.Endpoint != (oauth2.Endpoint{}) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		if m["endpoint"], err = json.Marshal(fileEndpoint{f.Endpoint.AuthURL, f.Endpoint.TokenURL}); err != nil {
			return err
		}
		if b, err = json.Marshal(m); err != nil {
			return err
		}
	}
	if fi, err := os.Stat(f.Path); err == nil && !fi.Mode().IsRegular() {
		return regular(f.Path, fi)
	}
	return writeAtomic(f.Path, b)
}

// writeAtomic writes data to a temporary file in path's directory (made
// with mode 0700 if missing), with mode 0600, and renames it over path.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Lock takes the lock of the file (on Path+".lock").
func (f *tokenFile) Lock(ctx context.Context) (func(), error) { return f.lock.Lock(ctx) }

// Delete removes the file and its lock file; a missing file is not an error.
func (f *tokenFile) Delete() error {
	os.Remove(f.Path + ".lock")
	return f.lock.Delete()
}

// accounts is the command's keyed store of one provider's user tokens,
// one per account, in <config>/<provider>/ with the file names of
// oauth2x.KeyedFileStore (k-<account>.json, the account %-encoded), so
// that a service can read the command's files with
// oauth2x.NewKeyedFileStore. Each file is a tokenFile, with its rules:
// regular files of at most 1 MiB, symbolic links written through, the
// endpoint saved beside the token.
//
// The default account reads through to the file of the command's
// single-token days, <config>/<provider>.json: while that file exists and
// <provider>/k-default.json does not, it is the default account's file,
// read and written in place (a symbolic link stays one). Logging out
// deletes it; the next login writes the new file. Nothing is moved.
//
// accounts is an oauth2x.KeyedStore and oauth2x.KeyedLocker, safe for
// concurrent use.
type accounts struct {
	keyed  *oauth2x.KeyedFileStore
	legacy string // the default account's file before accounts
	// Endpoint, when not zero, is saved beside every token Save writes.
	Endpoint oauth2.Endpoint
}

var (
	_ oauth2x.KeyedStore  = (*accounts)(nil)
	_ oauth2x.KeyedLocker = (*accounts)(nil)
)

// newAccounts returns the accounts of the provider named name in the
// configuration directory dir.
func newAccounts(dir, name string) *accounts {
	return &accounts{keyed: oauth2x.NewKeyedFileStore(filepath.Join(dir, name)), legacy: filepath.Join(dir, name+".json")}
}

// file returns the token file of account.
func (s *accounts) file(account string) *tokenFile {
	path := s.keyed.File(account).Path
	if account == defaultAccount && !present(path) && present(s.legacy) {
		path = s.legacy
	}
	f := openTokenFile(path)
	f.Endpoint = s.Endpoint
	return f
}

// present reports whether there is a file or link at path.
func present(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// any reports whether any account has a token file.
func (s *accounts) any() bool {
	if present(s.legacy) {
		return true
	}
	entries, _ := os.ReadDir(s.keyed.Dir)
	for _, e := range entries {
		if n := e.Name(); filepath.Ext(n) == ".json" && (strings.HasPrefix(n, "k-") || strings.HasPrefix(n, "h-")) {
			return true
		}
	}
	return false
}

// Load reads account's token; none is (nil, nil).
func (s *accounts) Load(ctx context.Context, account string) (*oauth2.Token, error) {
	return s.file(account).Load(ctx)
}

// Save writes account's token, with the endpoint, atomically with mode 0600.
func (s *accounts) Save(ctx context.Context, account string, t *oauth2.Token) error {
	return s.file(account).Save(ctx, t)
}

// Delete removes account's token file and its lock file.
func (s *accounts) Delete(_ context.Context, account string) error { return s.file(account).Delete() }

// Lock takes account's file's lock.
func (s *accounts) Lock(ctx context.Context, account string) (func(), error) {
	return s.file(account).Lock(ctx)
}
