module github.com/oauth2x/oauth2x/redisstore

// The floor is the core module's: go-redis v9.22.0 is the newest release
// that asks for no newer Go. Tests may use newer APIs behind build tags.
go 1.24.0

require (
	github.com/oauth2x/oauth2x v0.1.0
	github.com/redis/go-redis/v9 v9.22.0
	golang.org/x/oauth2 v0.34.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
)

// For work inside this repository only: a module that requires redisstore
// ignores this line and resolves github.com/oauth2x/oauth2x v0.1.0 (or its
// own replace) as usual.
replace github.com/oauth2x/oauth2x => ../
