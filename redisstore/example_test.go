package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/redisstore"
)

func ExampleKey() {
	fmt.Println(redisstore.Key("douyin", "aw05az2qjv4hg5ti", "_000HgDBHlj0-fc0dHBA")) // a user's token
	fmt.Println(redisstore.Key("douyin", "aw05az2qjv4hg5ti", ""))                     // the app's client token
	fmt.Println(redisstore.New(nil, redisstore.Key("douyin", "aw05az2qjv4hg5ti", ""), nil).LockKey())
	// Output:
	// oauth2x:{douyin:aw05az2qjv4hg5ti:_000HgDBHlj0-fc0dHBA}
	// oauth2x:{douyin:aw05az2qjv4hg5ti}
	// oauth2x:{douyin:aw05az2qjv4hg5ti}:lock
}

func ExampleKeyedStore_Key() {
	store := redisstore.NewKeyed(nil, "douyin", "aw05az2qjv4hg5ti", nil)
	fmt.Println(store.Key("_000HgDBHlj0-fc0dHBA")) // the same key as Key's
	fmt.Println(store.Key("tenant:7/{user}"))      // any string: escaped, one hash tag
	fmt.Println(store.Store("alice").LockKey())
	// Output:
	// oauth2x:{douyin:aw05az2qjv4hg5ti:_000HgDBHlj0-fc0dHBA}
	// oauth2x:{douyin:aw05az2qjv4hg5ti:tenant%3A7/%7Buser%7D}
	// oauth2x:{douyin:aw05az2qjv4hg5ti:alice}:lock
}

// Every replica of a service with many users runs this: one
// oauth2x.Tokens per provider over a KeyedStore, which refreshes each
// user's token once per expiry between all replicas. (Not run: it needs a
// Redis server.)
func ExampleNewKeyed() {
	ctx := context.Background()
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{os.Getenv("REDIS_ADDR")}})
	conf := &douyin.Config{ClientKey: os.Getenv("DOUYIN_CLIENT_KEY"), ClientSecret: os.Getenv("DOUYIN_CLIENT_SECRET")}
	tokens := oauth2x.NewTokens(conf, redisstore.NewKeyed(rdb, "douyin", conf.ClientKey, nil), &oauth2x.Options{
		OnError: func(err error) { log.Printf("douyin token: %v", err) },
	})

	// The login callback: saved to Redis before Put returns.
	http.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		tok, err := conf.Exchange(r.Context(), r.FormValue("code"))
		if err == nil {
			err = tokens.Put(r.Context(), douyin.OpenID(tok), tok)
		}
		if err != nil {
			http.Error(w, "login failed", http.StatusBadGateway)
		}
	})
	// Any request, on any replica, for a signed-in user.
	tok, err := tokens.Token(ctx, "_000HgDBHlj0-fc0dHBA")
	if errors.Is(err, oauth2x.ErrNoToken) || errors.Is(err, oauth2x.ErrInvalidGrant) {
		return // send the user to log in
	}
	_ = tok
}

// Every replica of a service runs this: the replicas share the app's
// client token and each user's token through Redis, and each expiry causes
// one upstream call between all of them. (Not run: it needs a Redis server.)
func Example() {
	ctx := context.Background()
	// Single node, Sentinel (MasterName) or Cluster (several Addrs) alike.
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{os.Getenv("REDIS_ADDR")}})
	conf := &douyin.Config{
		ClientKey:    os.Getenv("DOUYIN_CLIENT_KEY"),
		ClientSecret: os.Getenv("DOUYIN_CLIENT_SECRET"),
	}
	onError := func(err error) { log.Printf("douyin token: %v", err) }

	// The app's client token: fetched by one replica, used by all.
	app := oauth2x.NewTokenSource(ctx, conf.ClientTokenRefresher(false), nil, &oauth2x.Options{
		Store:   redisstore.New(rdb, redisstore.Key("douyin", conf.ClientKey, ""), nil),
		OnError: onError,
	})

	// A user's token: the login handler saved it once after conf.Exchange
	// (store.Save(ctx, tok)); every replica serves and refreshes it.
	openID := "_000HgDBHlj0-fc0dHBA"
	user := oauth2x.NewTokenSource(ctx, conf, nil, &oauth2x.Options{
		Store:   redisstore.New(rdb, redisstore.Key("douyin", conf.ClientKey, openID), nil),
		OnError: onError,
	})

	// Douyin's APIs read the token from the access-token header.
	call := func(src oauth2.TokenSource, url string) (*http.Response, error) {
		tok, err := src.Token() // oauth2x.IsTemporary(err): Redis or Douyin is away; retry later
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("access-token", tok.AccessToken)
		return http.DefaultClient.Do(req)
	}
	_, _ = call(user, "https://open.douyin.com/…")
	_, _ = call(app, "https://open.douyin.com/…")
}
