package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"golang.org/x/oauth2"
	_ "modernc.org/sqlite"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/sqlstore"
)

// Users' Douyin tokens in the application's database: here SQLite, a
// file; with PostgreSQL, open db with your driver and pass
// sqlstore.Postgres, and every replica shares the tokens.
func Example() {
	fake := douyintest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")

	dir, _ := os.MkdirTemp("", "sqlstore")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // SQLite writes one at a time

	store, err := sqlstore.New(db, sqlstore.SQLite, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.CreateTable(ctx); err != nil {
		log.Fatal(err)
	}
	tokens := oauth2x.NewTokens(conf, store, nil)

	// The login callback.
	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		log.Fatal(err)
	}
	if err := tokens.Put(ctx, douyin.OpenID(tok), tok); err != nil {
		log.Fatal(err)
	}

	// Any request for that user, in any process sharing the database.
	t, err := tokens.Token(ctx, "fake-open-id")
	fmt.Println("served:", t.AccessToken == tok.AccessToken, err)
	var rows int
	db.QueryRow("SELECT count(*) FROM oauth2x_tokens").Scan(&rows)
	fmt.Println("rows:", rows)
	fmt.Println(store.Schema())
	// Output:
	// served: true <nil>
	// rows: 1
	// CREATE TABLE IF NOT EXISTS oauth2x_tokens (
	// 	token_key  VARCHAR(255) NOT NULL PRIMARY KEY,
	// 	token      TEXT NOT NULL,
	// 	expires_at BIGINT
	// );
}
