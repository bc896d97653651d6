//go:build !unix

package main

import "errors"

// mkfifo fails: this system has no named pipes the tests can make.
func mkfifo(string) error { return errors.New("named pipes are Unix-only") }
