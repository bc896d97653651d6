package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/redisstore"
)

// TestCluster runs the store on a one-node Redis Cluster through a
// ClusterClient. One node is enough to prove the point: Cluster refuses a
// command or script whose keys are in different slots (CROSSSLOT) even
// when one node serves them all.
func TestCluster(t *testing.T) {
	srv := startRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // polling for the cluster to come up, bounded: 10s
		info, err := admin.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if i == 200 {
			t.Fatalf("cluster not ok within 10s: %s %v", info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	var rdb redis.UniversalClient = redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{srv.Addr()}, IsClusterMode: true})
	defer rdb.Close()
	if _, ok := rdb.(*redis.ClusterClient); !ok {
		t.Fatalf("client is a %T", rdb)
	}
	key := redisstore.Key("douyin", "aw05az2qjv4hg5ti", "_000HgDBHlj0-fc0dHBA")
	s := redisstore.New(rdb, key, nil)
	a, errA := admin.ClusterKeySlot(ctx, s.Key()).Result()
	b, errB := admin.ClusterKeySlot(ctx, s.LockKey()).Result()
	if errA != nil || errB != nil || a != b || a != int64(slot(key)) {
		t.Fatalf("slots: key %d (%v), lock %d (%v), ours %d", a, errA, b, errB, slot(key))
	}
	// The server does refuse keys of two slots in one command.
	if err := rdb.Do(ctx, "DEL", "a", "b").Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("DEL a b = %v, want CROSSSLOT", err)
	}

	if tok, err := s.Load(ctx); tok != nil || err != nil {
		t.Fatalf("Load = %v, %v", tok, err)
	}
	now := time.Now()
	want := tokenWithExtras(now, "act.1", "rft.1")
	if err := s.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx)
	if err != nil || got.AccessToken != want.AccessToken || !oauth2x.RefreshExpiry(got).Equal(oauth2x.RefreshExpiry(want)) {
		t.Fatalf("Load = %v, %v", got, err)
	}

	unlock, err := s.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := redisstore.New(rdb, key, nil)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := other.Lock(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock = %v", err)
	}
	unlock()
	u2, err := other.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u2()

	// A token source refreshes through the cluster.
	clk := newClock()
	up := &upstream{clk: clk}
	if err := s.Save(ctx, up.issue()); err != nil {
		t.Fatal(err)
	}
	ts := oauth2x.NewTokenSource(ctx, up, nil, &oauth2x.Options{Store: s, Now: clk.Now})
	clk.Advance(2 * time.Hour)
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "at-2" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	if stored, err := s.Load(ctx); err != nil || stored.RefreshToken != tok.RefreshToken {
		t.Fatalf("stored %v, %v", stored, err)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
}
