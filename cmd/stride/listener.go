package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
)

// limitListener accepts at most n connections at a time: past that, Accept
// waits for one to close. Without it a crowd of slow clients takes every
// file descriptor, and then the server can open neither a new connection
// nor its own database files.
type limitListener struct {
	net.Listener
	slots chan struct{}
}

// limitConnections wraps l so that at most n connections are open at once.
func limitConnections(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

// limitedConn frees its slot when closed, once however often Close is called.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// raiseFileLimit raises the soft limit of open files to the hard limit
// (Linux ships 1,024 soft, far below what a server with many clients
// needs) and returns the limit in force.
func raiseFileLimit(logger *slog.Logger) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		logger.Warn("read the open-file limit", "err", err)
		return 1024
	}
	if lim.Cur < lim.Max {
		old := lim.Cur
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			logger.Warn("raise the open-file limit", "from", old, "to", lim.Max, "err", err)
			lim.Cur = old
		} else {
			logger.Info("raised the open-file limit", "from", old, "to", lim.Cur)
		}
	}
	return lim.Cur
}

// connectionCap is how many connections the server accepts at once with
// files open files allowed: three quarters of them, leaving the rest for
// the database, its journal and the logs; never fewer than 16.
func connectionCap(files uint64) int {
	n := files * 3 / 4
	if n > 1<<20 {
		n = 1 << 20
	}
	return max(int(n), 16)
}

// warnIfReadable logs a warning when the file at path, which holds secrets
// (what), can be read by users other than its owner.
func warnIfReadable(logger *slog.Logger, path, what string) {
	if path == "" || strings.Contains(path, "://") {
		return
	}
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	if perm := st.Mode().Perm(); perm&0o044 != 0 {
		logger.Warn(fmt.Sprintf("%s is readable by other users; it holds %s: chmod 600 %s", path, what, path), "mode", fmt.Sprintf("%04o", uint32(perm&fs.ModePerm)))
	}
}
