package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/oauth2x/oauth2x/redisstore"
)

const (
	// addrEnv names the Redis server the tests share (host:port). Tests
	// that need it skip when it is unset; ci.sh starts one and sets it.
	addrEnv = "OAUTH2X_REDIS_ADDR"
	// childEnv makes the test binary act as a child process of a test
	// (crashlock, multiproc) instead of running the tests.
	childEnv = "OAUTH2X_REDISSTORE_CHILD"
)

func TestMain(m *testing.M) {
	switch role := os.Getenv(childEnv); role {
	case "":
		os.Exit(m.Run())
	case "crashlock":
		os.Exit(crashLockChild())
	case "multiproc":
		os.Exit(multiProcChild())
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", childEnv, role)
		os.Exit(2)
	}
}

// sharedRedis returns a client of the server at $OAUTH2X_REDIS_ADDR and
// its address, or skips the test when the variable is unset.
func sharedRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	addr := os.Getenv(addrEnv)
	if addr == "" {
		t.Skipf("%s is not set: run `bash redisstore/ci.sh`, or start a redis-server and set %s=host:port", addrEnv, addrEnv)
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at %s=%s: %v", addrEnv, addr, err)
	}
	return c, addr
}

// testKey returns a key no other test or run uses, and deletes it and its
// lock when the test ends.
func testKey(t testing.TB, c redis.UniversalClient, user string) string {
	k := redisstore.Key("test", randHex(6), user)
	t.Cleanup(func() { c.Del(context.Background(), k, k+":lock") })
	return k
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redisServer is a redis-server of a test's own, which the test may stop
// and start again on the same port.
type redisServer struct {
	t     testing.TB
	bin   string
	dir   string
	port  int
	extra []string

	cmd    *exec.Cmd // the running server; tests may signal it (SIGSTOP, SIGCONT)
	out    *bytes.Buffer
	exited chan struct{}
}

// startRedis starts a redis-server on a free loopback port with its files
// in a temporary directory, or skips the test when there is no
// redis-server binary. extra are more server arguments. The server is
// killed when the test ends.
func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server binary on PATH (apt-get install redis-server)")
	}
	s := &redisServer{t: t, bin: bin, dir: t.TempDir(), extra: extra}
	t.Cleanup(s.Stop)
	for attempt := 1; ; attempt++ {
		s.port = freePort(t)
		err := s.Start()
		if err == nil {
			return s
		}
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v", attempt, err)
	}
}

// Addr is the server's host:port.
func (s *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Start starts the server (again) and waits until it answers.
func (s *redisServer) Start() error {
	args := append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--daemonize", "no", "--logfile", "",
	}, s.extra...)
	s.cmd = exec.Command(s.bin, args...)
	s.out = new(bytes.Buffer)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	s.exited = exited
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(exited) }(s.cmd)

	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	// Polling for the server to come up, bounded: 10s.
	for range 400 {
		if c.Ping(context.Background()).Err() == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server on port %d exited: %s", s.port, s.out)
		case <-time.After(25 * time.Millisecond):
		}
	}
	s.Stop()
	return errors.New("redis-server did not answer PING within 10s")
}

// Stop kills the server as a crash would (SIGKILL) and waits until it is
// gone. Stopping a stopped server does nothing.
func (s *redisServer) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// clock is a fake clock for oauth2x.Options.Now within one process.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
