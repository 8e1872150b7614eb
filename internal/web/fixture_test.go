package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// fixture is a real Phoenix server on loopback ports, with the dashboard
// on its API listener, and the admin's API client to set things up.
type fixture struct {
	t     *testing.T
	a     *app.App
	admin *client.Client
	logs  *testkit.LogBuffer // the server's log, at debug level
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, app.BackupOptions{})
}

// newFixtureWith starts the server with backups into bo's repository.
func newFixtureWith(t *testing.T, bo app.BackupOptions) *fixture {
	t.Helper()
	return newFixtureOpts(t, func(o *app.Options) { o.Backup = bo })
}

// newFixtureOpts starts the server with the options set changes.
func newFixtureOpts(t *testing.T, set func(*app.Options)) *fixture {
	t.Helper()
	data := t.TempDir()
	logs := &testkit.LogBuffer{}
	o := app.Options{DataDir: data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", Proc: "-",
		VerifySoak: -1, Argon2: auth.Argon2{Time: 1, Memory: 64, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	set(&o)
	a, err := app.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	tok, err := app.ReadToken(o.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, a: a, admin: client.New(a.APIURL(), tok), logs: logs}
}

// addUser adds a user with a role everywhere and a password; "admin"
// exists already and only gets the password.
func (f *fixture) addUser(name, role, password string) {
	f.t.Helper()
	ctx := context.Background()
	if name == "admin" {
		if err := f.admin.Do(ctx, "PUT", client.Path("users", name, "password"), api.PasswordRequest{Password: password}, nil); err != nil {
			f.t.Fatal(err)
		}
		return
	}
	req := api.UserRequest{Name: name, Password: password, Grants: []auth.Grant{{Role: role}}}
	if err := f.admin.Do(ctx, "POST", client.Path("users"), req, nil); err != nil {
		f.t.Fatal(err)
	}
}

// addUserGrants adds a user with a password and the grants given (a role
// only in a project or an environment).
func (f *fixture) addUserGrants(name, password string, grants ...auth.Grant) {
	f.t.Helper()
	req := api.UserRequest{Name: name, Password: password, Grants: grants}
	if err := f.admin.Do(context.Background(), "POST", client.Path("users"), req, nil); err != nil {
		f.t.Fatal(err)
	}
}

// deploy makes a one-page release of project shop live on env and
// returns the deployment's id.
func (f *fixture) deploy(env, release, message string) int64 {
	f.t.Helper()
	ctx := context.Background()
	if err := f.a.Deploy.EnsureEnvironment(ctx, "shop", deploy.EnvSpec{Name: env}); err != nil {
		f.t.Fatal(err)
	}
	body := []byte("<h1>" + release + "</h1>")
	d := backend.Sum(body)
	m := &artifact.Manifest{Version: artifact.FormatVersion, Meta: artifact.Meta{Release: release}, Files: []artifact.File{{Path: "index.html", Digest: d,
		Size: int64(len(body)), Type: "text/html; charset=utf-8"}}}
	canon, err := m.Canonical()
	if err != nil {
		f.t.Fatal(err)
	}
	up, err := f.a.Deploy.BeginUpload(ctx, "shop", canon)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.a.Deploy.PutBlob(ctx, up.ID, d, bytes.NewReader(body), int64(len(body))); err != nil {
		f.t.Fatal(err)
	}
	dep, err := f.a.Deploy.Finalize(ctx, up.ID, deploy.FinalizeOptions{Environment: env, Actor: "admin", Message: message,
		Run: runOf(message)})
	if err != nil {
		f.t.Fatal(err)
	}
	return dep.ID
}

// active is the id of env's active deployment.
func (f *fixture) active(env string) int64 {
	f.t.Helper()
	e, err := f.a.Deploy.Environment(context.Background(), "shop", env)
	if err != nil {
		f.t.Fatal(err)
	}
	return e.ActiveID
}

// release runs a release of project shop whose pipeline is one step.
func (f *fixture) release(version, step string) int64 {
	f.t.Helper()
	return f.releaseSteps(version, "        - {name: hello, run: "+strconvQuote(step)+"}\n")
}

// releaseSteps runs a release of project shop whose pipeline is one stage,
// main, with the steps given (YAML list items, indented 8).
func (f *fixture) releaseSteps(version, steps string) int64 {
	f.t.Helper()
	return f.releaseWith("project: {name: shop}\nenvironments: {production: {}}\npipeline:\n  stages:\n    - name: main\n"+
		"      steps:\n"+steps, version)
}

// releaseWith runs a release, by admin, of the project phoenix.yaml describes.
func (f *fixture) releaseWith(yaml, version string) int64 {
	f.t.Helper()
	dir := f.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		f.t.Fatal(err)
	}
	run, err := f.a.Pipeline.Release(context.Background(), pipeline.ReleaseRequest{Dir: dir, Version: version, Actor: "admin"})
	if err != nil {
		f.t.Fatal(err)
	}
	return run.ID
}

func strconvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// waitRun polls a run until it is in one of the statuses.
func (f *fixture) waitRun(id int64, statuses ...string) *pipeline.RunDetail {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := f.a.Pipeline.Get(context.Background(), id)
		if err != nil {
			f.t.Fatal(err)
		}
		if slices.Contains(statuses, d.Status) {
			return d
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("run %d is %s, want %v", id, d.Status, statuses)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// browser is a signed-in (or not) browser on loopback: it keeps cookies
// by name (browsers accept Secure cookies from loopback origins), does
// not follow redirects, and checks every dashboard answer's headers.
type browser struct {
	t    *testing.T
	base string
	jar  map[string]*http.Cookie
	c    *http.Client
}

func (f *fixture) browser() *browser {
	return &browser{t: f.t, base: f.a.APIURL(), jar: map[string]*http.Cookie{},
		c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, header ...string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for _, c := range b.jar {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c
		}
	}
	if !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/status/") { // the API's own answers
		checkSecurityHeaders(b.t, method+" "+path, resp)
		checkNoInlineCode(b.t, method+" "+path, string(out))
		if s := b.cookie("__Host-phoenix_session"); s != "" && strings.Contains(string(out), s) {
			b.t.Errorf("%s %s: the page shows the session secret", method, path)
		}
	}
	return resp, string(out)
}

func (b *browser) get(path string) (*http.Response, string) { return b.do("GET", path, nil) }

// post sends a form with the session's CSRF token added.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", b.cookie("__Host-phoenix_csrf"))
	}
	return b.do("POST", path, form)
}

func (b *browser) cookie(name string) string {
	if c := b.jar[name]; c != nil {
		return c.Value
	}
	return ""
}

var nonceRe = regexp.MustCompile(`name="nonce" value="([0-9a-f]+)"`)

// login fills in the sign-in form as a person would.
func (b *browser) login(user, password string) (*http.Response, string) {
	b.t.Helper()
	_, page := b.get("/ui/login")
	m := nonceRe.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("sign-in form without a nonce:\n%s", page)
	}
	return b.do("POST", "/ui/login", url.Values{"user": {user}, "password": {password}, "nonce": {m[1]}, "next": {"/"}})
}

func (b *browser) mustLogin(user, password string) {
	b.t.Helper()
	resp, body := b.login(user, password)
	if resp.StatusCode != http.StatusSeeOther || b.cookie("__Host-phoenix_session") == "" {
		b.t.Fatalf("login of %s: %d\n%s", user, resp.StatusCode, body)
	}
}

// checkSecurityHeaders holds every dashboard answer to its headers.
func checkSecurityHeaders(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	cc := resp.Header.Get("Cache-Control")
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && cc != "no-store" {
		t.Errorf("%s: page with Cache-Control %q", what, cc)
	}
}

var inlineCode = regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:|<script>|<script(\s[^>]*)?>[^<]`)

// checkNoInlineCode fails on inline scripts, styles or event handlers in
// a page (the CSP would block them, so they would be bugs).
func checkNoInlineCode(t *testing.T, what, body string) {
	t.Helper()
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("%s: inline code %q in the page", what, m)
	}
}

type cookieT = http.Cookie

// runOf is the run a deployment's message names ("pipeline run 1": "1"),
// for the fixture's deploys that stand for a run's: the pipeline names
// it in FinalizeOptions.Run.
func runOf(message string) string {
	run, _ := strings.CutPrefix(message, "pipeline run ")
	if run == message {
		return ""
	}
	return run
}
