package cli

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"

	"golang.org/x/sys/unix"
)

// The server (and an in-process one) is not dumpable: steps running as
// the same user cannot read its environment or memory through /proc.
func TestProtectProcessMakesTheServerNotDumpable(t *testing.T) {
	t.Parallel()
	if err := protectProcess(); err != nil {
		t.Fatal(err)
	}
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 0 {
		t.Fatalf("dumpable = %d (%v), want 0", d, err)
	}
}

// TestScrubEnvironHidesKeysFromProc: /proc/<pid>/environ shows the
// environment a process started with, whatever Unsetenv did; after
// scrubEnviron the keys' values are gone from it and the rest is intact.
// The test runs itself as the process with the keys.
func TestScrubEnvironHidesKeysFromProc(t *testing.T) {
	const key = "c2VjcmV0LW1hc3Rlci1rZXktdmFsdWU"
	if os.Getenv("PHOENIX_TEST_SCRUB") == "1" {
		if err := scrubEnviron(func(name string) bool { return name == "PHOENIX_MASTER_KEY" }); err != nil {
			t.Fatal(err)
		}
		if os.Getenv("PHOENIX_MASTER_KEY") != key {
			t.Fatal("the process lost its own copy of the key")
		}
		b, _ := os.ReadFile("/proc/self/environ")
		os.Stdout.Write(b)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestScrubEnvironHidesKeysFromProc$")
	cmd.Env = append(os.Environ(), "PHOENIX_TEST_SCRUB=1", "PHOENIX_MASTER_KEY="+key)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if bytes.Contains(out, []byte(key)) || !bytes.Contains(out, []byte("PHOENIX_MASTER_KEY=\x00")) ||
		!bytes.Contains(out, []byte("PHOENIX_TEST_SCRUB=1\x00")) {
		t.Fatalf("/proc/self/environ after scrubbing: %q", out)
	}
}

// TestScrubArgsHidesThePasswordFromPs: the command line, which ps and
// /proc/<pid>/cmdline show every user, keeps its shape with the password
// overwritten.
func TestScrubArgsHidesThePasswordFromPs(t *testing.T) {
	const url = "postgres://phoenix:s3cr%40t-pw@db.internal:5432/phoenix"
	if os.Getenv("PHOENIX_TEST_SCRUB_ARGS") == "1" {
		if err := scrubArgs(store.DSNSecrets(url)); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile("/proc/self/cmdline")
		os.Stdout.Write(b)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestScrubArgsHidesThePasswordFromPs$", "--", "--database-url", url)
	cmd.Env = append(os.Environ(), "PHOENIX_TEST_SCRUB_ARGS=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if bytes.Contains(out, []byte("s3cr")) || !bytes.Contains(out, []byte("--database-url\x00postgres://phoenix:xxxxxxxxxxx@db.internal:5432/phoenix")) {
		t.Fatalf("/proc/self/cmdline after scrubbing: %q", out)
	}
}

// TestServerConnectsWithThePasswordItHides: a server given the password in
// --database-url hides it from ps and still logs in with it. The Go runtime
// does not copy the command line, so without Main's copy of its arguments
// the scrub overwrote the URL the server went on to connect with, and every
// password-checking PostgreSQL refused "xxxx". The test runs itself as
// phoenix server, with the URL in its real command line, against a
// listener that asks for the password as PostgreSQL does (cleartext) and
// records it.
func TestServerConnectsWithThePasswordItHides(t *testing.T) {
	if os.Getenv("PHOENIX_TEST_SERVER_ARGS") == "1" {
		i := slices.Index(os.Args, "--")
		os.Exit(Main(os.Args[i+1:], nil, os.Stdout, os.Stderr))
	}
	const password = "s3cr3t-pw"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p, err := askPassword(c); err == nil {
				select {
				case got <- p:
				default:
				}
			}
			c.Close()
		}
	}()
	url := fmt.Sprintf("postgres://phoenix:%s@%s/phoenix?sslmode=disable", password, ln.Addr())
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerConnectsWithThePasswordItHides$", "--",
		"server", "--data", t.TempDir(), "--database-url", url, "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "PHOENIX_TEST_SERVER_ARGS=1", "PHOENIX_DATABASE_URL=", "PGPASSWORD=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the server started on a database that refused it:\n%s", out)
	}
	select {
	case p := <-got:
		if p != password {
			t.Fatalf("the server logged in with password %q, want %q:\n%s", p, password, out)
		}
	default:
		t.Fatalf("the server sent no password:\n%s", out)
	}
	if bytes.Contains(out, []byte(password)) {
		t.Fatalf("the password is in the output:\n%s", out)
	}
}

// askPassword speaks the start of PostgreSQL's protocol on c: it reads the
// startup message, asks for a cleartext password, returns the one sent
// and refuses the login.
func askPassword(c net.Conn) (string, error) {
	var n int32
	if err := binary.Read(c, binary.BigEndian, &n); err != nil || n < 8 || n > 10000 {
		return "", fmt.Errorf("startup message: %v (length %d)", err, n)
	}
	if _, err := io.CopyN(io.Discard, c, int64(n-4)); err != nil {
		return "", err
	}
	if _, err := c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 3}); err != nil { // AuthenticationCleartextPassword
		return "", err
	}
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != 'p' {
		return "", fmt.Errorf("password message: %v (type %q)", err, hdr[0])
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[1:])-4)
	if _, err := io.ReadFull(c, body); err != nil {
		return "", err
	}
	fields := "SFATAL\x00C28P01\x00Mpassword authentication failed\x00\x00"
	msg := binary.BigEndian.AppendUint32([]byte{'E'}, uint32(4+len(fields)))
	c.Write(append(msg, fields...))
	return string(bytes.TrimSuffix(body, []byte{0})), nil
}
