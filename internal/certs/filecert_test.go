package certs

import (
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// movingClock is a clock the test moves; FileCert reads it concurrently.
type movingClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movingClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *movingClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestFileCertFollowsItsFiles: a renewal written over the files is served
// after the next look (not before); a half-written pair keeps the previous
// certificate and is logged once; the next good pair is served.
func TestFileCertFollowsItsFiles(t *testing.T) {
	dir := t.TempDir()
	var logs testkit.LogBuffer
	first, _ := testkit.SelfSigned(t, "first.test")
	certFile, keyFile := testkit.WriteKeyPair(t, dir, first)
	clock := &movingClock{now: time.Now()}
	fc, err := LoadFileCert(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fc.now = clock.Now
	fc.next.Store(clock.Now().Add(FileCheckEvery).UnixNano())
	served := func() string { return fc.Certificate().Leaf.Subject.CommonName }
	mtime := time.Now()
	replace := func(certPEM, keyPEM []byte) {
		t.Helper()
		mtime = mtime.Add(time.Minute) // a renewal's files are newer, whatever the filesystem's granularity
		for p, b := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
	}
	pemOf := func(name string) ([]byte, []byte) {
		c, _ := testkit.SelfSigned(t, name)
		cf, kf := testkit.WriteKeyPair(t, t.TempDir(), c)
		cb, _ := os.ReadFile(cf)
		kb, _ := os.ReadFile(kf)
		return cb, kb
	}
	secondCert, secondKey := pemOf("second.test")
	replace(secondCert, secondKey)
	if got := served(); got != "first.test" {
		t.Fatalf("served %s before the next look", got)
	}
	clock.add(FileCheckEvery)
	if got := served(); got != "second.test" {
		t.Fatalf("after the renewal and a look: %s", got)
	}
	thirdCert, thirdKey := pemOf("third.test")
	replace(thirdCert, secondKey) // the certificate renewed, the key not yet: a mismatch
	for range 3 {
		clock.add(FileCheckEvery)
		if got := served(); got != "second.test" {
			t.Fatalf("a mismatched pair replaced the certificate: %s", got)
		}
	}
	if n := strings.Count(logs.String(), "do not load"); n != 1 {
		t.Errorf("the bad pair was logged %d times, want once:\n%s", n, logs.String())
	}
	replace(thirdCert, thirdKey)
	clock.add(FileCheckEvery)
	if got := served(); got != "third.test" {
		t.Fatalf("after the key followed: %s", got)
	}
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Errorf("reloads not logged:\n%s", logs.String())
	}
}

// TestLoadFileCertNamesTheFlags: a missing file is an error naming the flags.
func TestLoadFileCertNamesTheFlags(t *testing.T) {
	_, err := LoadFileCert("/no/such/cert.pem", "/no/such/key.pem", nil)
	if err == nil || !strings.Contains(err.Error(), "--edge-tls-cert/--edge-tls-key") {
		t.Fatalf("err %v", err)
	}
}

// TestFileCertWarnsReadableKey: a key file every user may read is loaded
// with a warning naming it and the chmod; 0600 and 0640 are not warned.
func TestFileCertWarnsReadableKey(t *testing.T) {
	c, _ := testkit.SelfSigned(t, "edge.test")
	for mode, warned := range map[os.FileMode]bool{0o644: true, 0o600: false, 0o640: false} {
		certFile, keyFile := testkit.WriteKeyPair(t, t.TempDir(), c)
		if err := os.Chmod(keyFile, mode); err != nil {
			t.Fatal(err)
		}
		var logs testkit.LogBuffer
		if _, err := LoadFileCert(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
			t.Fatal(err)
		}
		if got := logs.Contains("readable by every user") && logs.Contains("chmod 600 "+keyFile); got != warned {
			t.Errorf("mode %04o: warned %v, want %v:\n%s", mode, got, warned, logs.String())
		}
	}
}
