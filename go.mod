module github.com/oauth2x/oauth2x

go 1.24.0

require (
	github.com/google/go-cmp v0.7.0
	golang.org/x/oauth2 v0.34.0
)
