module github.com/oauth2x/oauth2x/redisstore

go 1.26.8

require (
	github.com/oauth2x/oauth2x v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.23.0
	golang.org/x/oauth2 v0.37.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/oauth2x/oauth2x => ../
