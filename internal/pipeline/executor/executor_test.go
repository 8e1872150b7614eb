//go:build unix

package executor

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		script string
		code   int
		out    string
	}{
		{"success", "echo hello; echo err >&2", 0, "hello\nerr\n"},
		{"failure", "echo before; exit 3", 3, "before\n"},
		{"stops at first failing command", "false\necho unreachable", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := Run(context.Background(), Cmd{Script: tt.script, Output: &out, Env: os.Environ()})
			if res.ExitCode != tt.code || (err == nil) != (tt.code == 0) {
				t.Fatalf("exit %d err %v, want %d", res.ExitCode, err, tt.code)
			}
			if out.String() != tt.out {
				t.Errorf("output %q, want %q", out.String(), tt.out)
			}
		})
	}
}

// alive reports whether pid runs; a zombie (killed, not yet reaped by an
// init that may never reap it in a container) counts as dead.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// TestTimeoutKillsTheGroup starts a step that spawns a grandchild ignoring
// SIGTERM; the timeout must kill both.
func TestTimeoutKillsTheGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := `trap '' TERM; sleep 300 & echo $! > ` + pidFile + `; wait`
	res, err := Run(context.Background(), Cmd{Script: script, Timeout: 300 * time.Millisecond, Grace: 200 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !res.TimedOut {
		t.Fatalf("err %v res %+v, want a timeout", err, res)
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid == 0 {
		t.Fatal("grandchild pid not written")
	}
	for i := 0; i < 100 && alive(pid); i++ {
		time.Sleep(10 * time.Millisecond) // reaping by init may lag the kill
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("grandchild %d survived the timeout", pid)
	}
}

func TestCancelKillsAndLeftoversAreCleaned(t *testing.T) {
	dir := t.TempDir()
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		started := filepath.Join(dir, "started")
		go func() {
			for {
				if _, err := os.Stat(started); err == nil {
					cancel()
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		_, err := Run(ctx, Cmd{Script: "touch " + started + "; sleep 300"})
		if !errors.Is(err, ErrCancelled) {
			t.Fatalf("err %v, want cancelled", err)
		}
	})
	t.Run("background process of a finished step", func(t *testing.T) {
		pidFile := filepath.Join(dir, "bg")
		_, err := Run(context.Background(), Cmd{Script: "sleep 300 >/dev/null 2>&1 & echo $! > " + pidFile})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(pidFile)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		for i := 0; i < 100 && alive(pid); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if pid == 0 || alive(pid) {
			t.Fatalf("background process %d outlived its step", pid)
		}
	})
}

func TestMaskerForms(t *testing.T) {
	const secret = "s3cr3t-T0ken/with+chars="
	m := NewMasker()
	m.Add(secret)
	m.Add("ab") // too short: ignored
	basic := base64.StdEncoding.EncodeToString([]byte("user:" + secret))
	tests := []struct{ name, in string }{
		{"plain", "token is " + secret + " ok"},
		{"base64", "b64 " + base64.StdEncoding.EncodeToString([]byte(secret))},
		{"base64url", base64.URLEncoding.EncodeToString([]byte(secret))},
		{"query escaped", "https://x/?t=" + url.QueryEscape(secret)},
		{"inside a basic auth header", "Authorization: Basic " + basic},
		{"inside longer base64 at offset 2", base64.StdEncoding.EncodeToString([]byte("ab" + secret + "zz"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.String(tt.in)
			if !strings.Contains(got, Mask) {
				t.Fatalf("not masked: %q", got)
			}
			for _, v := range Variants(secret)[:7] {
				if strings.Contains(got, v) {
					t.Fatalf("form %q survives in %q", v, got)
				}
			}
		})
	}
	if got := m.String("ab cd"); got != "ab cd" {
		t.Errorf("short value masked: %q", got)
	}
}

// TestMaskWriterAcrossWrites feeds the secret byte by byte and in a line
// longer than MaxLine; it must never reach the sink.
func TestMaskWriterAcrossWrites(t *testing.T) {
	const secret = "hunter2-is-a-secret"
	m := NewMasker()
	m.Add(secret)
	t.Run("byte by byte", func(t *testing.T) {
		var sink bytes.Buffer
		w := NewMaskWriter(&sink, m)
		for _, b := range []byte("x " + secret + " y\nlast " + secret) {
			w.Write([]byte{b})
		}
		w.Flush()
		if strings.Contains(sink.String(), secret) || strings.Count(sink.String(), Mask) != 2 {
			t.Fatalf("sink %q", sink.String())
		}
	})
	t.Run("long line without newline", func(t *testing.T) {
		var sink bytes.Buffer
		w := NewMaskWriter(&sink, m)
		long := strings.Repeat("a", MaxLine-5) + secret + strings.Repeat("b", MaxLine)
		for i := 0; i < len(long); i += 1000 {
			w.Write([]byte(long[i:min(i+1000, len(long))]))
		}
		w.Flush()
		if strings.Contains(sink.String(), secret) || !strings.Contains(sink.String(), Mask) {
			t.Fatal("secret crossed a flush boundary unmasked")
		}
	})
}

// TestHugeOutputIsCapped runs a step printing 256 MiB into a 1 MiB log.
func TestHugeOutputIsCapped(t *testing.T) {
	if testing.Short() {
		t.Skip("prints 256 MiB")
	}
	path := filepath.Join(t.TempDir(), "step.log")
	m := NewMasker()
	m.Add("some-secret-value")
	lf, err := CreateLog(path, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := NewMaskWriter(lf, m)
	_, err = Run(context.Background(), Cmd{Args: []string{"head", "-c", strconv.Itoa(256 << 20), "/dev/zero"}, Output: w})
	w.Flush()
	lf.Close()
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Size() > 1<<20+200 {
		t.Fatalf("log is %d bytes", fi.Size())
	}
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte("bytes of output were dropped")) {
		t.Error("no truncation note")
	}
	if _, dropped := lf.Size(); dropped < 255<<20 {
		t.Errorf("dropped %d", dropped)
	}
}

// TestAppendLogKeepsWhatTheLogHolds: a log opened again to append keeps
// its lines, counts them towards the cap, and CreateLog starts it over.
func TestAppendLogKeepsWhatTheLogHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gate.log")
	write := func(open func(string, int64, func()) (*LogFile, error), line string) *LogFile {
		lf, err := open(path, 16, nil)
		if err != nil {
			t.Fatal(err)
		}
		lf.Write([]byte(line))
		lf.Close()
		return lf
	}
	write(CreateLog, "asked\n")
	lf := write(AppendLog, "still waiting\n")
	if b, _ := os.ReadFile(path); !strings.HasPrefix(string(b), "asked\nstill wait") || !strings.Contains(string(b), "log capped at 16 bytes") {
		t.Fatalf("after the append: %q", b)
	}
	if n, dropped := lf.Size(); n != 16 || dropped != 4 {
		t.Errorf("size %d, dropped %d; want 16 and 4", n, dropped)
	}
	write(CreateLog, "new\n")
	if b, _ := os.ReadFile(path); string(b) != "new\n" {
		t.Fatalf("after a create: %q", b)
	}
}
