package cli

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"

	"golang.org/x/sys/unix"
)

// The server (and an in-process one) is not dumpable: steps running as
// the same user cannot read its environment or memory through /proc.
func TestProtectProcessMakesTheServerNotDumpable(t *testing.T) {
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
