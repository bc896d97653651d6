//go:build !unix

package redisstore_test

import (
	"fmt"
	"os"
)

// multiProcChild: the multi-process test needs a Unix system.
func multiProcChild() int {
	fmt.Fprintln(os.Stderr, "the multi-process test needs a Unix system")
	return 2
}
