package testkit

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// PostgresServer is a throwaway PostgreSQL cluster: initdb into a temporary
// folder, listening on 127.0.0.1 only, with fsync off (tests need no
// durability). One runs per test binary; every test gets a database of its
// own from NewDatabase.
type PostgresServer struct {
	dir   string // owns data/, sock/ and server.log
	port  int
	bin   string // folder of initdb, pg_ctl
	runAs *user.User
	admin *sql.DB
	dbs   atomic.Int64
	watch io.Closer // the watchdog's stdin
}

var (
	pgOnce   sync.Once
	pgServer *PostgresServer
	pgErr    error
)

// Postgres returns the test binary's PostgreSQL server, starting it on
// first use. It skips t when PostgreSQL is not installed, and fails it
// instead when PHOENIX_REQUIRE_TOOLS=1 (CI installs it).
//
// The server outlives the test that started it and stops when the test
// binary exits, however it exits: a watchdog child reads a pipe whose only
// writer is this process, and stops the server and removes its folder at
// EOF. So no package needs a TestMain, and a test binary killed by its
// timeout leaves no server behind.
func Postgres(t testing.TB) *PostgresServer {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		msg := "PostgreSQL is not installed (no initdb on PATH nor under /usr/lib/postgresql/*/bin); apt-get install postgresql to run this test"
		if os.Getenv("PHOENIX_REQUIRE_TOOLS") == "1" {
			t.Fatal(msg + " (PHOENIX_REQUIRE_TOOLS=1)")
		}
		t.Skip(msg)
	}
	pgOnce.Do(func() { pgServer, pgErr = startPostgres(bin) })
	if pgErr != nil {
		t.Fatalf("start PostgreSQL: %v", pgErr)
	}
	return pgServer
}

// postgresBin finds the folder holding initdb and pg_ctl: PATH first, then
// the newest Debian cluster version.
func postgresBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "pg_ctl")); err == nil {
			return filepath.Dir(p)
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return pgVersion(found[i]) < pgVersion(found[j]) })
	if len(found) == 0 {
		return ""
	}
	return filepath.Dir(found[len(found)-1])
}

func pgVersion(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func startPostgres(bin string) (*PostgresServer, error) {
	s := &PostgresServer{bin: bin}
	var err error
	if s.runAs, err = postgresUser(); err != nil {
		return nil, err
	}
	if s.dir, err = os.MkdirTemp(tempParent(s.runAs != nil), "phoenix-pg-"); err != nil {
		return nil, err
	}
	if err := s.chown(s.dir); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	if err := s.watchdog(); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	if out, err := s.run("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := os.Mkdir(s.sock(), 0o700); err != nil {
		return nil, err
	}
	if err := s.chown(s.sock()); err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	s.admin, err = sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		return nil, err
	}
	s.admin.SetMaxOpenConns(2)
	return s, s.admin.PingContext(context.Background())
}

// start runs pg_ctl start on a free port, trying again on another port if
// one was taken between the probe and the start.
func (s *PostgresServer) start() error {
	var last error
	for range 3 {
		port, err := FreePort()
		if err != nil {
			return err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", port, s.sock())
		out, err := s.run("pg_ctl", "start", "-w", "-t", "60", "-D", s.data(), "-l", filepath.Join(s.dir, "server.log"), "-o", opts)
		if err == nil {
			s.port = port
			return nil
		}
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		last = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return last
}

// FreePort returns a TCP port on 127.0.0.1 free at the moment, for a
// child server that needs its port on its command line (PostgreSQL,
// knotd, the phoenix binary); a server in this process should listen on
// :0 instead. The port is taken below the kernel's ephemeral range when
// there is room there: a port from ":0" is free only until another test
// (of any package running meanwhile) binds ":0" and gets it, and the
// child then fails with "address already in use". A port is not handed
// out twice by one process.
func FreePort() (int, error) {
	freePorts.mu.Lock()
	defer freePorts.mu.Unlock()
	if lo, hi := belowEphemeral(); hi > lo {
		for range 200 {
			port := lo + rand.IntN(hi-lo)
			if freePorts.given[port] {
				continue
			}
			if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
				l.Close()
				freePorts.given[port] = true
				return port, nil
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var freePorts = struct {
	mu    sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

// belowEphemeral is a port range under the kernel's ephemeral ports
// (net.ipv4.ip_local_port_range), or an empty one when it cannot be read
// or leaves no room.
func belowEphemeral() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0
	}
	first, err := strconv.Atoi(f[0])
	if err != nil || first < 12000 {
		return 0, 0
	}
	return 10000, first - 1
}

// tempParent is where the server's folder goes: the temporary folder,
// unless the server runs as another user who could not reach it (a TMPDIR
// under /root), then /tmp.
func tempParent(otherUser bool) string {
	dir := os.TempDir()
	if !otherUser {
		return dir
	}
	for p := dir; p != filepath.Dir(p); p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
	}
	return dir
}

func (s *PostgresServer) data() string { return filepath.Join(s.dir, "data") }
func (s *PostgresServer) sock() string { return filepath.Join(s.dir, "sock") }

// DSN is the URL of database name on this server (user postgres, trust
// authentication, TCP on 127.0.0.1).
func (s *PostgresServer) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// NewDatabase creates an empty database and returns its URL. Databases are
// never dropped: the whole cluster goes when the test binary ends.
func (s *PostgresServer) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d", s.dbs.Add(1))
	if _, err := s.admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return s.DSN(name)
}

// Bin is the folder of the server's programs (initdb, pg_ctl, pg_dump when
// the same version ships it).
func (s *PostgresServer) Bin() string { return s.bin }

// command runs a server program: as the postgres user when this process is
// root (initdb and pg_ctl refuse to run as root).
func (s *PostgresServer) command(name string, args ...string) *exec.Cmd {
	prog := filepath.Join(s.bin, name)
	if s.runAs == nil {
		return exec.Command(prog, args...)
	}
	return exec.Command("runuser", append([]string{"-u", s.runAs.Username, "--", prog}, args...)...)
}

func (s *PostgresServer) run(name string, args ...string) ([]byte, error) {
	cmd := s.command(name, args...)
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// watchdog starts the child that stops the server and removes its folder
// once this process is gone: its standard input is a pipe only this process
// writes to, so EOF means the test binary exited.
func (s *PostgresServer) watchdog() error {
	script := fmt.Sprintf(`cat >/dev/null; %q stop -D %q -m immediate >/dev/null 2>&1; rm -rf %q`,
		filepath.Join(s.bin, "pg_ctl"), s.data(), s.dir)
	var cmd *exec.Cmd
	if s.runAs == nil {
		cmd = exec.Command("sh", "-c", script)
	} else {
		cmd = exec.Command("runuser", "-u", s.runAs.Username, "--", "sh", "-c", script)
	}
	cmd.Dir = os.TempDir()
	cmd.SysProcAttr = detached() // a Ctrl-C to the test does not kill it before the server
	w, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.watch = w // held open, never written, for the life of the process
	return nil
}

// Stop stops the server now rather than at the test binary's exit (for a
// TestMain that wants it gone before its own cleanup): it closes the
// watchdog's pipe, and the watchdog stops the server.
func (s *PostgresServer) Stop() error {
	s.admin.Close()
	return s.watch.Close()
}

// postgresUser is the account server programs run as: nil (this process's
// own) unless this process is root, then the postgres user.
func postgresUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and initdb refuses root: need a postgres user to run it as (the postgresql package creates one): %w", err)
	}
	return u, nil
}

func (s *PostgresServer) chown(path string) error {
	if s.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(s.runAs.Uid)
	gid, _ := strconv.Atoi(s.runAs.Gid)
	return os.Chown(path, uid, gid)
}

// String names the server for test logs (never a password: it has none).
func (s *PostgresServer) String() string {
	return strings.TrimSuffix(s.DSN(""), "/?sslmode=disable")
}
