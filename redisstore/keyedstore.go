package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
)

// KeyedStore is an [oauth2x.KeyedStore] and [oauth2x.KeyedLocker] on Redis:
// the tokens of many users of one application, each in a Redis key of its
// own with a lock of its own, for [oauth2x.NewTokens] in every replica of a
// service. Each key's token and lock behave exactly as a [Store]'s (the same
// code): TTLs by the refresh token's expiry, a renewed lease that ends with
// the holder's context, and a Save fenced by the lock's owner value, which
// fails with [oauth2x.ErrLockLost] once the lease was lost. It is safe for
// concurrent use; make one with [NewKeyed].
//
//	store := redisstore.NewKeyed(rdb, "douyin", conf.ClientKey, nil)
//	tokens := oauth2x.NewTokens(conf, store, nil)
//	// In the login callback: tokens.Put(ctx, userID, tok). In a handler:
//	client := oauth2.NewClient(ctx, tokens.TokenSource(ctx, userID))
type KeyedStore struct {
	l      *lease
	prefix string // every key's Redis key is prefix + escaped key + "}"
}

var (
	_ oauth2x.KeyedStore  = (*KeyedStore)(nil)
	_ oauth2x.KeyedLocker = (*KeyedStore)(nil)
)

// NewKeyed returns a KeyedStore keeping the tokens of the application
// clientKey at provider, one Redis key per user key (see
// [KeyedStore.Key]). opts may be nil.
func NewKeyed(client redis.UniversalClient, provider, clientKey string, opts *Options) *KeyedStore {
	return &KeyedStore{l: newLease(client, opts), prefix: userKeyPrefix(provider, clientKey)}
}

// Key returns the Redis key holding key's token: [Key](provider,
// clientKey, key), so a token saved by a [Store] made with that key is the
// same token. Any string is a key: "%", ":", "{" and "}" are escaped, so
// distinct keys never share a Redis key, and each key is a Redis Cluster
// hash tag of its own, which its lock shares. The empty key has a Redis
// key of its own too (ending ":}"), apart from the application's client
// token.
func (s *KeyedStore) Key(key string) string { return s.prefix + escape(key) + "}" }

// Store returns the single-token Store for key, sharing s's client and
// locks: a Save through it is fenced by a lock taken through s, and the
// other way round.
func (s *KeyedStore) Store(key string) *Store { return &Store{l: s.l, key: s.Key(key)} }

// Load returns key's token, or (nil, nil) when there is none.
func (s *KeyedStore) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	return s.l.load(ctx, s.Key(key))
}

// Save stores key's token as [Store.Save] does: with a TTL after the
// refresh token's expiry, and fenced by key's lock while s holds it.
func (s *KeyedStore) Save(ctx context.Context, key string, t *oauth2.Token) error {
	return s.l.save(ctx, s.Key(key), t)
}

// Delete removes key's token. A missing token is not an error. It does
// not touch the lock.
func (s *KeyedStore) Delete(ctx context.Context, key string) error {
	return s.l.del(ctx, s.Key(key))
}

// Lock takes key's lock, as [Store.Lock] does; keys lock independently.
func (s *KeyedStore) Lock(ctx context.Context, key string) (unlock func(), err error) {
	return s.l.lock(ctx, s.Key(key))
}
