package redisstore_test

import (
	"context"
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
