package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func TestAccessLogFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		flags accessLogFlags
		err   string
	}{
		{accessLogFlags{prefix: "edge-", path: filepath.Join(dir, "a.log"), maxMiB: 100, keep: 10}, ""},
		{accessLogFlags{prefix: "edge-", path: "-", maxMiB: 1, keep: 1}, ""},
		{accessLogFlags{prefix: "edge-", maxMiB: 100, keep: 10}, ""},
		{accessLogFlags{prefix: "edge-", path: filepath.Join(dir, "no", "a.log"), maxMiB: 100, keep: 10}, "--edge-access-log " + filepath.Join(dir, "no", "a.log")},
		{accessLogFlags{prefix: "", path: filepath.Join(dir, "a.log"), maxMiB: 0, keep: 10}, "--access-log-max-size 0"},
		{accessLogFlags{prefix: "edge-", path: filepath.Join(dir, "a.log"), maxMiB: 100, keep: 0}, "--edge-access-log-keep 0"},
	} {
		got, err := tc.flags.options(asFlags)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || usererr.KindOf(err) != usererr.Usage || usererr.HintOf(err) == "" {
				t.Errorf("%+v: err = %v, want a usage error naming %s with a hint", tc.flags, err, tc.err)
			}
			continue
		}
		if err != nil || got.Path != tc.flags.path || got.MaxSize != int64(tc.flags.maxMiB)<<20 || got.Keep != tc.flags.keep {
			t.Errorf("%+v: got %+v %v", tc.flags, got, err)
		}
	}
}

// TestServeAccessLog: phoenix serve --access-log writes the requests'
// lines, all of them once it stops.
func TestServeAccessLog(t *testing.T) {
	t.Parallel()
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<h1>hi</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "access.log")
	out := &testkit.LogBuffer{}
	g := &Globals{Stdout: out, Stderr: io.Discard}
	o := &serveOptions{addr: "127.0.0.1:0", notFoundPage: "/404.html", loops: 1, idle: 2 * time.Minute,
		access: accessLogFlags{path: logPath, maxMiB: 100, keep: 10}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, g, o, site) }()
	addr := regexp.MustCompile(`http://([0-9.:]+)/`)
	deadline := time.Now().Add(10 * time.Second)
	for !addr.MatchString(out.String()) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start: %s %v", out.String(), <-done)
		}
		time.Sleep(5 * time.Millisecond) // polling its output, with a deadline
	}
	base := addr.FindStringSubmatch(out.String())[0]
	for _, p := range []string{"", "missing?x=1"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"path":"/","query":false`) || !strings.Contains(lines[1], `"path":"/missing","query":true`) ||
		!strings.Contains(lines[1], `"status":404`) {
		t.Fatalf("access log:\n%s", data)
	}
}
