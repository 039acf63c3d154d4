// Package pgtest starts throwaway PostgreSQL servers for tests.
//
// A server runs from a temporary folder on a random local port, as the
// postgres user when the test runs as root (PostgreSQL refuses to run as
// root), and is stopped with "pg_ctl stop -m fast" at cleanup. Each test
// takes a fresh database with NewDatabase, so one server can serve a whole
// package:
//
//	var pg pgtest.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		pg.Stop()
//		os.Exit(code)
//	}
//
//	func TestX(t *testing.T) {
//		dsn := pg.Get(t).NewDatabase(t)
//		...
//	}
//
// When the PostgreSQL binaries (initdb, pg_ctl) are not on PATH, tests are
// skipped with a hint to install postgresql, or fail when the CI
// environment variable is set.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// ErrNotInstalled reports that the PostgreSQL server binaries are missing.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql: install postgresql (apt-get install -y postgresql)")

// Server is a running throwaway PostgreSQL server.
type Server struct {
	base string // temporary folder: data/, sockets, log
	port int
	user string // OS user the server runs as ("" for the current user)
	stop sync.Once
	// bin maps a program name to its path.
	bin map[string]string
	// admin is a connection pool to the "postgres" database, for
	// creating and dropping test databases.
	admin *sql.DB
}

// New starts a server. Stop it with Stop. It returns ErrNotInstalled when
// the PostgreSQL binaries are missing.
func New(ctx context.Context) (*Server, error) {
	s := &Server{bin: map[string]string{}}
	for _, name := range []string{"initdb", "pg_ctl"} {
		path, err := findBinary(name)
		if err != nil {
			return nil, ErrNotInstalled
		}
		s.bin[name] = path
	}
	if os.Geteuid() == 0 {
		s.user = "postgres"
	}
	base, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: temp folder: %w", err)
	}
	s.base = base
	if s.user != "" {
		u, err := user.Lookup(s.user)
		if err != nil {
			os.RemoveAll(base)
			return nil, fmt.Errorf("pgtest: running as root needs the %s user: %w", s.user, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			os.RemoveAll(base)
			return nil, fmt.Errorf("pgtest: chown temp folder: %w", err)
		}
	}
	if out, err := s.run(ctx, "initdb", "-D", s.dataDir(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		os.RemoveAll(base)
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port may be taken before the server binds it
		if s.port, err = freePort(); err != nil {
			lastErr = err
			continue
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", s.port, s.base)
		out, err := s.run(ctx, "pg_ctl", "-D", s.dataDir(), "-o", opts, "-l", filepath.Join(s.base, "log"), "-w", "-t", "60", "start")
		if err == nil {
			lastErr = nil
			break
		}
		log, _ := os.ReadFile(filepath.Join(s.base, "log"))
		lastErr = fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	if lastErr != nil {
		os.RemoveAll(base)
		return nil, lastErr
	}
	s.admin, err = sql.Open("pgx", s.DSN("postgres"))
	if err == nil {
		err = s.admin.PingContext(ctx)
	}
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("pgtest: connect: %w", err)
	}
	return s, nil
}

// Start starts a server for tb and stops it when tb's test ends. It skips
// tb (or fails it when the CI environment variable is set) when the
// PostgreSQL binaries are missing.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(context.Background())
	if err != nil {
		fail(tb, err)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

func fail(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") == "" {
		tb.Skipf("skipping PostgreSQL test: %v", err)
	}
	tb.Fatal(err)
}

func (s *Server) dataDir() string { return filepath.Join(s.base, "data") }

// findBinary finds a PostgreSQL program on PATH or, where Debian keeps the
// server programs off PATH, in the newest /usr/lib/postgresql/N/bin.
func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// pgMajor returns N of /usr/lib/postgresql/N/bin.
func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// run runs a PostgreSQL program as the server's user.
func (s *Server) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	name = s.bin[name]
	var cmd *exec.Cmd
	if s.user != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", s.user, "--", name}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Dir = s.base
	return cmd.CombinedOutput()
}

// Port returns the TCP port the server listens on (127.0.0.1).
func (s *Server) Port() int { return s.port }

// DSN returns the URL of database name on the server.
func (s *Server) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// NewDatabase creates an empty database for tb and returns its URL. The
// database is dropped when tb's test ends (after cleanups registered later,
// such as closing a store opened on it).
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

// Stop stops the server and removes its folder. It is safe to call more
// than once.
func (s *Server) Stop() error {
	var err error
	s.stop.Do(func() {
		if s.admin != nil {
			s.admin.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, e := s.run(ctx, "pg_ctl", "-D", s.dataDir(), "-m", "fast", "-w", "stop"); e != nil {
			err = fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", e, out)
		}
		if e := os.RemoveAll(s.base); e != nil && err == nil {
			err = fmt.Errorf("pgtest: remove %s: %w", s.base, e)
		}
	})
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Shared is one server shared by every test of a package: the first Get
// starts it, Stop (from TestMain, after m.Run) stops it. The zero value is
// ready to use.
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Get returns the shared server, starting it on first use. Like Start, it
// skips or fails tb when PostgreSQL is missing or cannot start.
func (sh *Shared) Get(tb testing.TB) *Server {
	tb.Helper()
	sh.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sh.srv, sh.err = New(ctx)
	})
	if sh.err != nil {
		fail(tb, sh.err)
	}
	return sh.srv
}

// Stop stops the shared server if it was started.
func (sh *Shared) Stop() error {
	sh.once.Do(func() { sh.err = errors.New("pgtest: stopped") })
	if sh.srv == nil {
		return nil
	}
	return sh.srv.Stop()
}

// Backend is a database a test runs against.
type Backend struct {
	// Name is "sqlite" or "postgres", for t.Run.
	Name string
	// DSN returns the address of a new, empty database for tb: a file in a
	// temporary folder, or a database on a throwaway PostgreSQL server.
	DSN func(tb testing.TB) string
}

// Backends returns the two databases Starpost runs on, for tests that run
// the same code against both: SQLite in tb's temporary folder, and
// PostgreSQL on sh's server or, when sh is nil, on a server started (by
// Start) for each test that asks.
func Backends(sh *Shared) []Backend {
	pg := Start
	if sh != nil {
		pg = sh.Get
	}
	return []Backend{
		{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "starpost.db") }},
		{"postgres", func(tb testing.TB) string { return pg(tb).NewDatabase(tb) }},
	}
}
