module github.com/oauth2x/oauth2x

go 1.26.8

require (
	github.com/google/go-cmp v0.7.0 // indirect
	golang.org/x/oauth2 v0.37.0 // indirect
)
