#!/usr/bin/env bash
# Tests the sqlstore module against a real PostgreSQL (and SQLite, which
# runs in-process): installs postgresql when missing (Debian, as root),
# starts a throw-away cluster as a non-root user in a temporary directory
# on a free loopback port, runs gofmt, go vet and go test -race with
# OAUTH2X_POSTGRES_DSN pointing at it and CI=true (so no test skips), and
# stops and removes the cluster however the script ends.
#
#   bash sqlstore/ci.sh        # from the repository root, or from anywhere
set -euo pipefail
cd "$(dirname "$0")"

# consumer builds a throw-away module against this one, as a user would
# after `go get`: GOFLAGS=-mod=mod, the core at a local path, and the
# consumer's go line kept at the core's floor.
consumer() {
	local root floor tmp out
	root=$(cd .. && pwd)
	floor=$(awk '$1 == "go" { print $2; exit }' "$root/go.mod")
	tmp=$(mktemp -d)
	cat >"$tmp/go.mod" <<MOD
module example.com/consumer

go $floor

require (
	github.com/oauth2x/oauth2x/sqlstore v0.1.0
	modernc.org/sqlite v1.38.0
)

replace (
	github.com/oauth2x/oauth2x => $root
	github.com/oauth2x/oauth2x/sqlstore => $root/sqlstore
)
MOD
	cat >"$tmp/main.go" <<'GO'
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/oauth2x/oauth2x/sqlstore"
	"golang.org/x/oauth2"
	_ "modernc.org/sqlite" // driver name "sqlite"
)

func main() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(os.Args[1], "app.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	s, err := sqlstore.New(db, sqlstore.SQLite, nil)
	if err != nil {
		panic(err)
	}
	if err := s.CreateTable(ctx); err != nil {
		panic(err)
	}
	if err := s.Save(ctx, "alice", &oauth2.Token{AccessToken: "a", RefreshToken: "r"}); err != nil {
		panic(err)
	}
	t, err := s.Load(ctx, "alice")
	if err != nil {
		panic(err)
	}
	fmt.Println(t.AccessToken + t.RefreshToken)
}
GO
	out=$(cd "$tmp" && GOFLAGS=-mod=mod GOWORK=off go run . "$tmp")
	if [[ $out != "ar" ]]; then
		echo "ci.sh: consumer printed $out" >&2
		exit 1
	fi
	if ! grep -qx "go $floor" "$tmp/go.mod"; then
		echo "ci.sh: building against sqlstore raised the consumer's go line above the core's floor $floor:" >&2
		grep '^go ' "$tmp/go.mod" >&2
		exit 1
	fi
	(cd "$tmp" && GOWORK=off go list -m github.com/oauth2x/oauth2x)
	rm -rf "$tmp"
	echo "ci.sh: a consumer module builds against sqlstore with GOFLAGS=-mod=mod at go $floor"
}
consumer

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [[ -z $(pgbin) ]]; then
	echo "ci.sh: installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq postgresql >/dev/null
fi
bin=$(pgbin)
"$bin/postgres" --version

# PostgreSQL refuses to run as root: run it as the postgres user (created
# by the package), or as a user made for the purpose.
user=$(id -un)
if [[ $(id -u) == 0 ]]; then
	user=postgres
	if ! id "$user" >/dev/null 2>&1; then
		user=oauth2x-pg
		id "$user" >/dev/null 2>&1 || useradd --system --no-create-home "$user"
	fi
fi
as_user() {
	if [[ $(id -un) == "$user" ]]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

# Nothing must listen on the port: bash's /dev/tcp connects or fails.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

dir=$(mktemp -d)
chmod 755 "$dir"
chown "$user" "$dir"
cleanup() {
	if [[ -f $dir/data/postmaster.pid ]]; then
		as_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

as_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
port=
for p in $(seq 55432 55531); do
	listening "$p" && continue
	if as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 start \
		-o "-p $p -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off" >/dev/null; then
		port=$p
		break
	fi
	echo "ci.sh: postgres did not start on port $p:" >&2
	tail -n 20 "$dir/log" >&2 || true
done
if [[ -z $port ]]; then
	echo "ci.sh: could not start postgres" >&2
	exit 1
fi
export OAUTH2X_POSTGRES_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export CI=true
echo "ci.sh: postgres at 127.0.0.1:$port"

unformatted=$(gofmt -l .)
if [[ -n $unformatted ]]; then
	echo "ci.sh: not gofmt'ed:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
if command -v staticcheck >/dev/null; then
	staticcheck ./...
fi
go test -race -count=1 ./...
