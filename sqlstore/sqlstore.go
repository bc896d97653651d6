// Package sqlstore keeps many users' OAuth 2.0 tokens in the
// application's own SQL database, one row per key, for [oauth2x.Tokens]:
// PostgreSQL, shared by every replica of a service, or SQLite, a file
// beside one process. It uses only database/sql; the application opens
// the database with the driver of its choice.
//
//	db, err := sql.Open("pgx", dsn) // import _ "github.com/jackc/pgx/v5/stdlib"
//	store, err := sqlstore.New(db, sqlstore.Postgres, nil)
//	err = store.CreateTable(ctx) // or run store.Schema() by hand
//	tokens := oauth2x.NewTokens(conf, store, nil)
//
// A [*Store] is an [oauth2x.KeyedStore] and an [oauth2x.KeyedLocker]. On
// PostgreSQL a key's lock is a session advisory lock
// (pg_advisory_lock) taken on a connection set aside for the holder: it
// excludes every process using the database. While the lock is held, the
// holder's Load and Save of that key go over the same connection, so a
// holder whose connection died (and with it the lock, which the server
// releases when the session ends) cannot overwrite what the next holder
// saves: its Save fails, and the token source keeps the new token in
// memory and saves it again later. On SQLite the lock excludes the
// goroutines of this process only: use one process per SQLite file.
//
// Tokens are stored as the JSON of [oauth2x.MarshalToken], so the extras
// the library relies on (open_id, the refresh token's expiry, scope)
// survive; the access token's expiry is kept beside it, in seconds since
// 1970, for queries of your own. The token column holds live credentials:
// give the table the access rights of a password table.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
)

// Dialect is the SQL database a [Store] talks to.
type Dialect int

const (
	// Postgres is PostgreSQL 9.5 or later (for INSERT … ON CONFLICT).
	Postgres Dialect = iota + 1
	// SQLite is SQLite 3.24 or later (for INSERT … ON CONFLICT).
	SQLite
)

// DefaultTable is the table a [Store] uses when Options.Table is empty.
const DefaultTable = "oauth2x_tokens"

// MaxKeyLen is the longest key a [Store] takes, in bytes: the key column
// is VARCHAR(255).
const MaxKeyLen = 255

// Options tunes a [Store]. The zero value (or nil) is ready to use.
type Options struct {
	// Table is the table's name: letters, digits and underscores, not
	// starting with a digit, at most 63 bytes, optionally qualified by a
	// schema ("auth.tokens"). Optional; empty means DefaultTable.
	Table string
}

// Store is an [oauth2x.KeyedStore] and [oauth2x.KeyedLocker] in one SQL
// table. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	table   string
	q       queries
	local   oauth2x.KeyedLocker // SQLite: the keys' locks in this process

	mu   sync.Mutex           // guards held
	held map[string]*sql.Conn // PostgreSQL: keys locked here, and the connection holding each lock
}

// queries are the statements, written once for both dialects: both read
// $1, $2 … as the arguments in order, and both have ON CONFLICT.
type queries struct {
	create, load, save, del string
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)

// New returns a Store keeping tokens in db, which must be open on a
// database of dialect d. It checks the table name but does not touch the
// database: call [Store.CreateTable], or run [Store.Schema] by hand.
func New(db *sql.DB, d Dialect, opts *Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: New: db is nil")
	}
	if d != Postgres && d != SQLite {
		return nil, fmt.Errorf("sqlstore: New: unknown dialect %d: use sqlstore.Postgres or sqlstore.SQLite", d)
	}
	table := DefaultTable
	if opts != nil && opts.Table != "" {
		table = opts.Table
	}
	if !identifier.MatchString(table) {
		return nil, fmt.Errorf("sqlstore: New: table name %q is not letters, digits and underscores (optionally schema.table, at most 63 bytes each)", table)
	}
	s := &Store{db: db, dialect: d, table: table, held: map[string]*sql.Conn{}}
	s.q = queries{
		create: "CREATE TABLE IF NOT EXISTS " + table + " (\n" +
			"\ttoken_key  VARCHAR(255) NOT NULL PRIMARY KEY,\n" +
			"\ttoken      TEXT NOT NULL,\n" +
			"\texpires_at BIGINT\n" +
			")",
		load: "SELECT token FROM " + table + " WHERE token_key = $1",
		save: "INSERT INTO " + table + " (token_key, token, expires_at) VALUES ($1, $2, $3)" +
			" ON CONFLICT (token_key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at",
		del: "DELETE FROM " + table + " WHERE token_key = $1",
	}
	if d == SQLite {
		// The keys' locks within this process: the in-memory keyed
		// store's, whose tokens are not used.
		s.local = oauth2x.NewKeyedMemoryStore().(oauth2x.KeyedLocker)
	}
	return s, nil
}

// Schema returns the CREATE TABLE IF NOT EXISTS statement of the Store's
// table, to run by hand or in a migration.
func (s *Store) Schema() string { return s.q.create + ";" }

// CreateTable creates the Store's table unless it exists.
func (s *Store) CreateTable(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, s.q.create); err != nil {
		return fmt.Errorf("sqlstore: creating table %s: %w", s.table, err)
	}
	return nil
}

// conn is what Load and Save run on: the database, or the connection
// holding the key's lock.
type conn interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) on(key string) conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.held[key]; c != nil {
		return c
	}
	return s.db
}

func checkKey(key string) error {
	if len(key) > MaxKeyLen {
		return fmt.Errorf("sqlstore: key is %d bytes long, longer than %d", len(key), MaxKeyLen)
	}
	return nil
}

// Load returns key's token, or (nil, nil) when the table has none.
func (s *Store) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var data string
	err := s.on(key).QueryRowContext(ctx, s.q.load, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: load: %w", err)
	}
	return oauth2x.UnmarshalToken([]byte(data))
}

// Save stores t as key's token, replacing the one there.
func (s *Store) Save(ctx context.Context, key string, t *oauth2.Token) error {
	if err := checkKey(key); err != nil {
		return err
	}
	data, err := oauth2x.MarshalToken(t)
	if err != nil {
		return err
	}
	var expires any // NULL: no expiry
	if !t.Expiry.IsZero() {
		expires = t.Expiry.Unix()
	}
	if _, err := s.on(key).ExecContext(ctx, s.q.save, key, string(data), expires); err != nil {
		return fmt.Errorf("sqlstore: save: %w", err)
	}
	return nil
}

// Delete removes key's row; an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.on(key).ExecContext(ctx, s.q.del, key); err != nil {
		return fmt.Errorf("sqlstore: delete: %w", err)
	}
	return nil
}

// Lock takes key's lock, waiting until it is free or ctx is done. On
// PostgreSQL it holds one connection of db's pool until unlock.
func (s *Store) Lock(ctx context.Context, key string) (func(), error) {
	if s.dialect != Postgres {
		return s.local.Lock(ctx, key)
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: lock: %w", err)
	}
	id := s.lockID(key)
	if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		// The lock may have been granted as the wait was cancelled:
		// close the session, which releases it, rather than pool it.
		discard(c)
		return nil, fmt.Errorf("sqlstore: lock: %w", err)
	}
	s.mu.Lock()
	s.held[key] = c
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.held, key)
			s.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", id); err != nil {
				discard(c) // its session ends, and the lock with it
				return
			}
			c.Close()
		})
	}, nil
}

// discard closes c's connection instead of returning it to the pool.
func discard(c *sql.Conn) {
	c.Raw(func(any) error { return driver.ErrBadConn })
	c.Close()
}

// lockID is the advisory lock's number for key: a hash of the table and
// the key. Two keys sharing a number only wait for each other.
func (s *Store) lockID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(s.table)))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int64(h.Sum64())
}

var (
	_ oauth2x.KeyedStore  = (*Store)(nil)
	_ oauth2x.KeyedLocker = (*Store)(nil)
)
