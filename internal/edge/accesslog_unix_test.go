//go:build unix

package edge

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestAccessLogReopenOnSIGHUP: with ReopenOn(SIGHUP) the process catches
// the signal (so sending it to the test process is safe) and reopens the
// file a logrotate moved away.
func TestAccessLogReopenOnSIGHUP(t *testing.T) {
	l, path := openTestLog(t, AccessLogOptions{})
	stop := l.ReopenOn(syscall.SIGHUP)
	defer stop()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reopen the access log")
		}
		time.Sleep(5 * time.Millisecond) // polling for the new file, with a deadline
	}
	recordPath(l, "/after-hup")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAccessLines(t, path); len(got) != 1 || got[0].Path != "/after-hup" {
		t.Fatalf("new file: %+v", got)
	}
}
