package e2e

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestVersionAndUsageErrors(t *testing.T) {
	r := run(t, t.TempDir(), nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "phoenix ") {
		t.Fatalf("version: %+v", r)
	}
	r = run(t, t.TempDir(), nil, "version", "-o", "json")
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["go_version"] == nil {
		t.Fatalf("version -o json: %q", r.stdout)
	}
	for _, args := range [][]string{{"no-such-command"}, {"version", "--output", "xml"}, {"deploy"}, {"--bogus-flag"}} {
		if r := run(t, t.TempDir(), nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%s", args, r.code, r.stderr)
		}
	}
	if r := run(t, t.TempDir(), []string{"PHOENIX_OUTPUT=yaml"}, "version"); r.code != 2 || !strings.Contains(r.stderr, "table or json") {
		t.Errorf("PHOENIX_OUTPUT mirror not applied: %+v", r)
	}
}

func TestDemoReleasesTheExample(t *testing.T) {
	r := run(t, t.TempDir(), nil, "demo", "--exit", "--keep", "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0")
	if m := regexp.MustCompile(`fresh data dir (\S+)`).FindStringSubmatch(r.stdout); m != nil {
		t.Cleanup(func() { os.RemoveAll(filepath.Dir(m[1])) })
	}
	if r.code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"run 1 succeeded: v1.0.0 is live on staging and production", "health check of production passed",
		"phoenix-verify rolled production back to v1.1.0", "restore test passed", "production  http://production.example.localhost:", "admin token",
		"dashboard   http://127.0.0.1:", "Phoenix ran the demo at:", "The server stops now (--exit); serve the data dir again with: phoenix server --data "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	// With --exit, what to try works without the server it stops.
	if _, try, _ := strings.Cut(r.stdout, "Try:"); !strings.Contains(try, "phoenix runs --data ") || strings.Contains(try, "--server") {
		t.Errorf("with --exit the demo suggests commands for the server it stops:\n%s", try)
	}
	// The dashboard's password is shown once and kept nowhere in plaintext.
	pw := regexp.MustCompile(`sign in as admin with password ([A-Z2-7]{26}) `).FindStringSubmatch(r.stdout)
	data := regexp.MustCompile(`fresh data dir (\S+)`).FindStringSubmatch(r.stdout)
	if pw == nil || data == nil {
		t.Fatalf("no dashboard password or data dir in the demo's output:\n%s", r.stdout)
	}
	filepath.WalkDir(filepath.Dir(data[1]), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(pw[1])) {
				t.Errorf("the dashboard password is in %s", p)
			}
		}
		return nil
	})
	if strings.Contains(r.stderr, pw[1]) {
		t.Error("the dashboard password is in the demo's log")
	}
}

// TestDemoExitWithoutKeep: the demo's data dir is removed after --exit
// without --keep, so the demo neither gives a password or token for it nor
// suggests commands on it (they would start an empty server there).
func TestDemoExitWithoutKeep(t *testing.T) {
	r := run(t, t.TempDir(), nil, "demo", "--exit", "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0")
	data := regexp.MustCompile(`fresh data dir (\S+)`).FindStringSubmatch(r.stdout)
	if r.code != 0 || data == nil {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Dir(data[1])); !os.IsNotExist(err) {
		os.RemoveAll(filepath.Dir(data[1]))
		t.Errorf("the demo's work dir is still there: %v", err)
	}
	for _, bad := range []string{"Try:", "admin token", "password", data[1]} {
		if strings.Contains(r.stdout[strings.Index(r.stdout, "Phoenix ran the demo at:"):], bad) {
			t.Errorf("after the demo, its output names %q of a data dir it removes:\n%s", bad, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "data dir is removed: with --keep it stays") {
		t.Errorf("the demo does not say its data dir goes:\n%s", r.stdout)
	}
}

// writeSite writes a small SPA whose pages name release.
func writeSite(t *testing.T, dir, release string) {
	t.Helper()
	files := map[string]string{
		"index.html":                "<!doctype html><title>" + release + "</title><script src=/assets/app.js></script>",
		"assets/app.js":             "console.log('" + release + "')",
		"assets/big.css":            strings.Repeat("body{color:red}\n", 500),
		"staticwebapp.config.json":  `{"navigationFallback":{"rewrite":"/index.html","exclude":["/assets/*"]}}`,
		"deep/nested/page/file.txt": "text",
	}
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeployRollbackAgainstARunningServer(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	s := startServer(t, data)
	proj := filepath.Join(work, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "phoenix.yaml"), []byte("version: 1\nproject:\n  name: shop\nenvironments:\n  production:\n    protection:\n      lock: true\n"), 0o644)
	env := []string{"PHOENIX_DATA=" + data}
	host := "production.shop.localhost"

	writeSite(t, filepath.Join(proj, "v1"), "release-one")
	r := run(t, proj, env, "deploy", "v1", "--env", "production", "-o", "json")
	if r.code != 0 {
		t.Fatalf("deploy v1: %+v", r)
	}
	var d1 struct {
		ID   int64 `json:"id"`
		Sent int   `json:"blobs_sent"`
	}
	json.Unmarshal([]byte(r.stdout), &d1)
	if code, body := s.get(t, host, "/some/client/route"); code != 200 || !strings.Contains(body, "release-one") {
		t.Fatalf("after v1: %d %q", code, body)
	}

	writeSite(t, filepath.Join(proj, "v2"), "release-two")
	r = run(t, proj, env, "deploy", "v2", "--env", "production", "-o", "json")
	var d2 struct {
		Sent  int `json:"blobs_sent"`
		Total int `json:"blobs_total"`
	}
	json.Unmarshal([]byte(r.stdout), &d2)
	if r.code != 0 || d2.Sent >= d2.Total {
		t.Fatalf("deploy v2 sent %d of %d blobs (unchanged files must not be re-sent): %+v", d2.Sent, d2.Total, r)
	}
	if _, body := s.get(t, host, "/"); !strings.Contains(body, "release-two") {
		t.Fatalf("v2 not live: %q", body)
	}

	r = run(t, proj, env, "rollback", "--env", "production")
	if r.code != 0 {
		t.Fatalf("rollback: %+v", r)
	}
	if _, body := s.get(t, host, "/"); !strings.Contains(body, "release-one") {
		t.Fatalf("rollback did not restore v1: %q", body)
	}
	r = run(t, proj, env, "deployments", "--env", "production")
	if r.code != 0 || !strings.Contains(r.stdout, "*") || strings.Count(r.stdout, "\n") != 3 {
		t.Fatalf("deployments table:\n%s", r.stdout)
	}
	// A restart serves what was active.
	stop(t, s)
	s2 := startServer(t, data)
	if _, body := s2.get(t, host, "/"); !strings.Contains(body, "release-one") {
		t.Fatalf("after restart: %q", body)
	}
	// Bad input: a token that is wrong gets 401 and exit 1.
	r = run(t, proj, []string{"PHOENIX_TOKEN=wrong"}, "deployments", "--env", "production", "--server", "http://"+s2.api)
	if r.code != 1 || !strings.Contains(r.stderr, "invalid token") {
		t.Fatalf("wrong token: %+v", r)
	}
}

func TestSecondServerOnSameDataDirRefused(t *testing.T) {
	data := t.TempDir()
	startServer(t, data)
	r := run(t, t.TempDir(), nil, "server", "--data", data, "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0")
	if r.code != 1 || !strings.Contains(r.stderr, "in use by another phoenix server") {
		t.Fatalf("second server: %+v", r)
	}
}

// enablePreviews writes a phoenix.yaml of project shop enabling previews
// in work, which 'phoenix deploy --preview' run there hands the server.
func enablePreviews(t *testing.T, work string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(work, "phoenix.yaml"), []byte("project: {name: shop}\nenvironments:\n  staging: {preview: true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPreviewEnvironmentGetsItsOwnHost(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	s := startServer(t, data)
	writeSite(t, filepath.Join(work, "site"), "preview-build")
	enablePreviews(t, work)
	env := []string{"PHOENIX_DATA=" + data}
	r := run(t, work, env, "deploy", "site", "--preview", "feature/Login", "--project", "shop", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, "preview-feature-login.shop.localhost") {
		t.Fatalf("preview deploy: %+v", r)
	}
	if code, body := s.get(t, "preview-feature-login.shop.localhost", "/"); code != 200 || !strings.Contains(body, "preview-build") {
		t.Fatalf("preview host: %d %q", code, body)
	}
	if code, _ := s.get(t, "production.shop.localhost", "/"); code == 200 {
		t.Fatal("production must not serve the preview")
	}
}

func TestEnvironmentIPAllowList(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	s := startServer(t, data)
	os.WriteFile(filepath.Join(work, "phoenix.yaml"), []byte("version: 1\nproject:\n  name: shop\nenvironments:\n"+
		"  internal:\n    ip_allow: [10.0.0.0/8]\n  office:\n    ip_allow: [127.0.0.0/8, \"::1\"]\n"), 0o644)
	writeSite(t, filepath.Join(work, "site"), "allow-list")
	env := []string{"PHOENIX_DATA=" + data}
	for _, e := range []string{"internal", "office"} {
		if r := run(t, work, env, "deploy", "site", "--env", e); r.code != 0 {
			t.Fatalf("deploy %s: %+v", e, r)
		}
	}
	if code, _ := s.get(t, "internal.shop.localhost", "/"); code != 403 {
		t.Fatalf("a client outside ip_allow got %d, want 403", code)
	}
	if code, body := s.get(t, "office.shop.localhost", "/"); code != 200 || !strings.Contains(body, "allow-list") {
		t.Fatalf("a client inside ip_allow got %d", code)
	}
}

// TestTrustedProxiesForwardTheClient: behind a load balancer
// (--trusted-proxies), ip_allow judges the client the balancer names in
// X-Forwarded-For; a server without the flag ignores the header.
func TestTrustedProxiesForwardTheClient(t *testing.T) {
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "phoenix.yaml"), []byte("version: 1\nproject:\n  name: shop\nenvironments:\n"+
		"  internal:\n    ip_allow: [203.0.113.0/24]\n"), 0o644)
	writeSite(t, filepath.Join(work, "site"), "behind-a-balancer")
	for _, trusted := range []bool{true, false} {
		data := filepath.Join(t.TempDir(), "data")
		var args []string
		if trusted {
			args = []string{"--trusted-proxies", "127.0.0.1,::1"}
		}
		s := startServerWith(t, data, nil, args...)
		if r := run(t, work, []string{"PHOENIX_DATA=" + data}, "deploy", "site", "--env", "internal"); r.code != 0 {
			t.Fatalf("deploy: %+v", r)
		}
		for xff, want := range map[string]int{"203.0.113.9": 200, "198.51.100.7": 403} {
			if !trusted {
				want = 403 // the loopback peer is the client
			}
			req, _ := http.NewRequest("GET", "http://"+s.edge+"/", nil)
			req.Host = "internal.shop.localhost"
			req.Header.Set("X-Forwarded-For", xff)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("trusted proxies %v, X-Forwarded-For %s: %d, want %d", trusted, xff, resp.StatusCode, want)
			}
		}
	}
	if r := run(t, work, nil, "server", "--data", t.TempDir(), "--trusted-proxies", "lb.internal"); r.code != 2 ||
		!strings.Contains(r.stderr, "--trusted-proxies") {
		t.Fatalf("a host name as a proxy: %+v", r)
	}
}
