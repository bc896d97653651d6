#!/usr/bin/env bash
# Checks that the redisstore module can be used as published: a consumer
# module that requires it (and the core, at a local path) builds with
# GOFLAGS=-mod=mod, as after a user's `go get`, and keeps its go line at the
# core's floor. Then tests the module against a real Redis: installs
# redis-server when missing (Debian, as root), starts one on a free loopback
# port, runs gofmt, go vet and go test -race with OAUTH2X_REDIS_ADDR
# pointing at it, and shuts it down however the script ends.
#
#   bash redisstore/ci.sh        # from the repository root, or from anywhere
set -euo pipefail
cd "$(dirname "$0")"

# consumer builds a throw-away module against this one, as a user would.
consumer() {
	local root floor tmp out
	root=$(cd .. && pwd)
	floor=$(awk '$1 == "go" { print $2; exit }' "$root/go.mod")
	tmp=$(mktemp -d)
	cat >"$tmp/go.mod" <<MOD
module example.com/consumer

go $floor

require github.com/oauth2x/oauth2x/redisstore v0.1.0

replace (
	github.com/oauth2x/oauth2x => $root
	github.com/oauth2x/oauth2x/redisstore => $root/redisstore
)
MOD
	cat >"$tmp/main.go" <<'GO'
package main

import (
	"fmt"

	"github.com/oauth2x/oauth2x/redisstore"
	"github.com/redis/go-redis/v9"
)

func main() {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	fmt.Printf("%T\n", redisstore.New(c, redisstore.Key("douyin", "app", "user"), nil))
	_ = redisstore.NewKeyed(c, "douyin", "app", nil).Store("user")
}
GO
	out=$(cd "$tmp" && GOFLAGS=-mod=mod GOWORK=off go run .)
	if [[ $out != "*redisstore.Store" ]]; then
		echo "ci.sh: consumer printed $out" >&2
		exit 1
	fi
	if ! grep -qx "go $floor" "$tmp/go.mod"; then
		echo "ci.sh: building against redisstore raised the consumer's go line above the core's floor $floor:" >&2
		grep '^go ' "$tmp/go.mod" >&2
		exit 1
	fi
	(cd "$tmp" && GOWORK=off go list -m github.com/oauth2x/oauth2x github.com/redis/go-redis/v9)
	rm -rf "$tmp"
	echo "ci.sh: a consumer module builds against redisstore with GOFLAGS=-mod=mod at go $floor"
}
consumer

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	echo "ci.sh: installing redis-server"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq redis-server >/dev/null
fi
redis-server --version

# Nothing must listen on the port: bash's /dev/tcp connects or fails.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

dir=$(mktemp -d)
pidfile=$dir/redis.pid
cleanup() {
	if [[ -s $pidfile ]]; then
		local pid
		pid=$(cat "$pidfile")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do # up to 5s for a clean exit
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

port=
for p in $(seq 6390 6489); do
	listening "$p" && continue
	redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize yes --pidfile "$pidfile" --logfile "$dir/redis.log" --dir "$dir"
	for _ in $(seq 100); do # up to 10s
		if redis-cli -p "$p" ping 2>/dev/null | grep -q PONG; then
			port=$p
			break
		fi
		sleep 0.1
	done
	[[ -n $port ]] && break
	echo "ci.sh: redis-server did not come up on port $p:" >&2
	cat "$dir/redis.log" >&2 || true
	cleanup
	mkdir -p "$dir"
done
if [[ -z $port ]]; then
	echo "ci.sh: could not start redis-server" >&2
	exit 1
fi
export OAUTH2X_REDIS_ADDR=127.0.0.1:$port
echo "ci.sh: redis-server at $OAUTH2X_REDIS_ADDR"

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
