package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTheListenerHoldsAtMostItsCapOfConnections opens two connections to a
// listener capped at two: the third is accepted only after one closes.
func TestTheListenerHoldsAtMostItsCapOfConnections(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limitConnections(raw, 2)
	defer l.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, second := <-accepted, <-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted while two were open")
	case <-time.After(100 * time.Millisecond):
	}
	first.Close()
	first.Close() // a second Close must not free a second slot
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the third connection was not accepted after one closed")
	}
	second.Close()
}

func TestConnectionCap(t *testing.T) {
	for _, c := range []struct {
		files uint64
		want  int
	}{{1024, 768}, {10, 16}, {1 << 40, 1 << 20}} {
		if got := connectionCap(c.files); got != c.want {
			t.Errorf("connectionCap(%d) = %d, want %d", c.files, got, c.want)
		}
	}
}

// TestSourceAddMakesTheConfigPrivate: a stride.yaml readable by all gets a
// secret written into it; afterwards only its owner may read it.
func TestSourceAddMakesTheConfigPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(path, []byte("db: stride.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := sourceAdd(t, "github", "--secret", "s3cret", "--config", path)
	if code != 0 {
		t.Fatalf("source add: exit %d: %s", code, stderr)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("stride.yaml has mode %04o after a secret was written, want 0600", st.Mode().Perm())
	}
}

func TestAWarningForSecretFilesOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		mode os.FileMode
		warn bool
	}{{0o644, true}, {0o640, true}, {0o600, false}} {
		path := filepath.Join(dir, fmt.Sprintf("stride-%o.yaml", c.mode))
		if err := os.WriteFile(path, []byte("db: x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, c.mode); err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		warnIfReadable(slog.New(slog.NewTextHandler(&log, nil)), path, "webhook secrets")
		if got := strings.Contains(log.String(), "readable by other users") && strings.Contains(log.String(), path); got != c.warn {
			t.Errorf("mode %04o: warned %v (%q), want %v", c.mode, got, log.String(), c.warn)
		}
	}
}

func TestTheOpenFileLimitIsRaisedToTheHardLimit(t *testing.T) {
	var log bytes.Buffer
	got := raiseFileLimit(slog.New(slog.NewTextHandler(&log, nil)))
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur != lim.Max || got != lim.Cur {
		t.Errorf("soft limit %d, hard %d, reported %d; want all equal (log: %s)", lim.Cur, lim.Max, got, log.String())
	}
}
