package web_test

import (
	"context"
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
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/vault"
)

const (
	secretValue = "sup3r-s3cret-value-never-shown"
	masterKey   = "the master key of the dashboard's vault"
)

// adminFixture is a server whose edge serves a file certificate expiring
// in 5 days, whose vault holds a production secret expiring in 3 days
// with a tag of markup, and whose users are admin and the viewer vera.
func adminFixture(t *testing.T, mod ...func(*app.Options)) (*fixture, time.Time) {
	t.Helper()
	nb := time.Now().Add(-time.Hour).Truncate(time.Second)
	c, _ := testkit.SelfSignedValid(t, nb, nb.Add(5*24*time.Hour), "edge.shop.test")
	cert, key := testkit.WriteKeyPair(t, t.TempDir(), c)
	f := newFixtureOpts(t, func(o *app.Options) {
		o.EdgeTLSCert, o.EdgeTLSKey = []string{cert}, []string{key}
		o.MasterKey, o.VaultKDF = vault.SecretString(masterKey), vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
		for _, m := range mod {
			m(o)
		}
	})
	f.addUser("admin", "", adminPW)
	f.addUser("vera", "viewer", "viewer-password-1")
	prod := true
	req := api.SecretRequest{Value: []byte(secretValue), Tags: map[string]string{"team": "<b>web</b>"}, Production: &prod,
		ExpiresAt: time.Now().Add(3 * 24 * time.Hour)}
	if err := f.admin.Do(context.Background(), "PUT", client.Path("secrets", "PROD_API_KEY"), req, nil); err != nil {
		t.Fatal(err)
	}
	return f, nb
}

func TestAdminPagesRenderForAnAdmin(t *testing.T) {
	f, nb := adminFixture(t)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	pages := map[string][]string{
		"/ui/certificates":    {"edge.shop.test", "file", `badge warn">expiring`, nb.Add(5 * 24 * time.Hour).UTC().Format("2006-01-02 15:04:05 UTC"), "<td>4</td>"},
		"/ui/users":           {"vera", "viewer", "Add a user", "Set roles", "deploy and roll back", `name="grants"`},
		"/ui/tokens":          {"Your tokens", "Create a token", "bootstrap", "Every user's", "Revoke the admin token", "Lifetime (ttl)"},
		"/ui/tokens?all=true": {"Every user's tokens", "Only yours"},
		"/ui/vault":           {`badge good">unsealed`, "PROD_API_KEY", "team=&lt;b&gt;web&lt;/b&gt;", "Expiring within 30 days", `PHOENIX_SIGNING_KEY <span class="badge idle">system</span>`, `<tr><th scope="row">PROD_API_KEY</th><td>secret</td><td>1</td><td><time`},
	}
	for path, wants := range pages {
		t.Run(path, func(t *testing.T) {
			resp, page := b.get(path)
			if resp.StatusCode != 200 {
				t.Fatalf("%d\n%s", resp.StatusCode, page)
			}
			for _, w := range wants {
				if !strings.Contains(page, w) {
					t.Errorf("no %q in\n%s", w, page)
				}
			}
			for _, nav := range []string{`href="/ui/users"`, `href="/ui/tokens"`, `href="/ui/vault"`, `href="/ui/certificates"`} {
				if !strings.Contains(page, nav) {
					t.Errorf("the navigation lacks %s", nav)
				}
			}
			if strings.Contains(page, secretValue) || strings.Contains(page, "PRIVATE KEY") || strings.Contains(page, "<b>web") {
				t.Error("a secret value, key material or unescaped markup on the page")
			}
		})
	}
}

func TestAdminPagesRefusedOrHiddenForAViewer(t *testing.T) {
	f, _ := adminFixture(t)
	b := f.browser()
	b.mustLogin("vera", "viewer-password-1")
	_, page := b.get("/")
	if strings.Contains(page, `href="/ui/users"`) || strings.Contains(page, `href="/ui/vault"`) || !strings.Contains(page, `href="/ui/tokens"`) {
		t.Fatalf("a viewer's navigation: want tokens, not users or vault:\n%s", page)
	}
	if !strings.Contains(page, `href="/ui/users#password"`) {
		t.Errorf("a viewer's header has no link to their password form:\n%s", page)
	}
	// The users page is only the form for the viewer's own password.
	if resp, page := b.get("/ui/users"); resp.StatusCode != 200 || !strings.Contains(page, "Set your password (vera)") ||
		strings.Contains(page, "admin") || strings.Contains(page, "Add a user") || strings.Contains(page, "Roles") {
		t.Errorf("a viewer's /ui/users: %d\n%s", resp.StatusCode, page)
	}
	for _, path := range []string{"/ui/vault", "/ui/tokens?all=true"} {
		if resp, page := b.get(path); resp.StatusCode != http.StatusForbidden || strings.Contains(page, "PROD_API_KEY") {
			t.Errorf("a viewer's %s: %d\n%s", path, resp.StatusCode, page)
		}
	}
	resp, page := b.get("/ui/tokens")
	if resp.StatusCode != 200 || strings.Contains(page, "Every user") || strings.Contains(page, "bootstrap") || strings.Contains(page, `name="user"`) {
		t.Errorf("a viewer's tokens page shows others' tokens or the for-user field: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := b.get("/ui/certificates"); resp.StatusCode != 200 {
		t.Errorf("a viewer (read) cannot see the certificates: %d", resp.StatusCode)
	}
	// Forged posts with a valid CSRF token: the API refuses and records it.
	if resp, page := b.post("/ui/users", url.Values{"name": {"mallory"}, "role": {"admin"}}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(page, `href="/ui/users">Back</a>`) {
		t.Errorf("a viewer's forged add-user: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := b.post("/ui/users/vera/grants", url.Values{"grants": {"admin"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer granting themselves admin: %d", resp.StatusCode)
	}
	us, err := f.a.Auth.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Name == "mallory" || (u.Name == "vera" && (len(u.Grants) != 1 || u.Grants[0].Role != "viewer")) {
			t.Fatalf("a viewer's forged post changed users: %+v", us)
		}
	}
	if recs := auditRecords(t, f, "access.denied"); len(recs) < 2 || recs[len(recs)-1].Actor != "vera" {
		t.Errorf("the forged posts are not in the audit log: %+v", recs)
	}
}

var secretRE = regexp.MustCompile(`id="secret" class="secret" value="([^"]+)"`)

func TestCreateTokenShowsTheSecretOnce(t *testing.T) {
	f, _ := adminFixture(t)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	resp, page := b.post("/ui/tokens", url.Values{"name": {`<script>alert("t")</script>`}, "scopes": {"read"}, "ttl": {"1d"}})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create token: %d, Cache-Control %q\n%s", resp.StatusCode, resp.Header.Get("Cache-Control"), page)
	}
	m := secretRE.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "shown only on this page") {
		t.Fatalf("no secret on the response page:\n%s", page)
	}
	secret := m[1]
	if strings.Contains(page, `<script>alert("t")`) || !strings.Contains(page, "&lt;script&gt;") {
		t.Error("the token's name is not escaped")
	}
	tc := client.New(f.a.APIURL(), secret)
	var me auth.Principal
	if err := tc.Do(context.Background(), "GET", client.Path("me"), nil, &me); err != nil || me.User != "admin" {
		t.Fatalf("the shown secret does not sign in: %v %+v", err, me)
	}
	_, list := b.get("/ui/tokens")
	_, again := b.get("/ui/tokens?all=true")
	for what, text := range map[string]string{"the tokens page": list + again, "the server log": f.logs.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("%s holds the secret", what)
		}
	}
	for name, c := range b.jar {
		if strings.Contains(c.Value, secret) || strings.Contains(url.QueryEscape(c.Value), url.QueryEscape(secret)) {
			t.Errorf("cookie %s holds the secret", name)
		}
	}
	id := auth.TokenID(secret)
	if !strings.Contains(list, id) || !strings.Contains(list, "/ui/tokens/"+id+"/revoke") {
		t.Fatalf("the new token %s is not listed with a revoke button:\n%s", id, list)
	}
	if resp, _ := b.post("/ui/tokens/"+id+"/revoke", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/tokens" {
		t.Fatalf("revoke: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if err := tc.Do(context.Background(), "GET", client.Path("me"), nil, &me); err == nil {
		t.Fatal("the revoked token still works")
	}
	if _, page := b.get("/ui/tokens"); !strings.Contains(page, "Token "+id+" revoked.") || !strings.Contains(page, `badge bad">revoked`) {
		t.Errorf("no flash or revoked state after the revoke:\n%s", page)
	}
}

func TestAdminFormsNeedTheCSRFToken(t *testing.T) {
	f, _ := adminFixture(t)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	before, err := f.a.Auth.Tokens(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for path, form := range map[string]url.Values{
		"/ui/tokens":            {"name": {"forged"}, "csrf": {""}},
		"/ui/users":             {"name": {"forged"}, "csrf": {strings.Repeat("0", 64)}},
		"/ui/users/vera/grants": {"grants": {"admin"}, "csrf": {""}},
		"/ui/tokens/abc/revoke": {"csrf": {""}},
	} {
		resp, page := b.do("POST", path, form)
		if resp.StatusCode != http.StatusForbidden || secretRE.MatchString(page) {
			t.Errorf("%s without the CSRF token: %d\n%s", path, resp.StatusCode, page)
		}
	}
	after, _ := f.a.Auth.Tokens(context.Background(), "")
	us, _ := f.a.Auth.Users(context.Background())
	if len(after) != len(before) || len(us) != 2 {
		t.Fatalf("forged posts changed something: %d tokens (was %d), users %+v", len(after), len(before), us)
	}
}

func TestUserAndRolesThroughTheForms(t *testing.T) {
	f, _ := adminFixture(t)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	resp, _ := b.post("/ui/users", url.Values{"name": {"carol"}, "password": {"carol-password-1"}, "role": {"contributor"}, "project": {"shop"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/users" {
		t.Fatalf("add user: %d", resp.StatusCode)
	}
	resp, _ = b.post("/ui/users/carol/grants", url.Values{"grants": {"viewer\napprover project=shop env=production\n"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set grants: %d", resp.StatusCode)
	}
	u, err := f.a.Auth.User(context.Background(), "carol")
	want := []auth.Grant{{Role: "viewer"}, {Role: "approver", Project: "shop", Environment: "production"}}
	if err != nil || len(u.Grants) != 2 || !slices.Contains(u.Grants, want[0]) || !slices.Contains(u.Grants, want[1]) || !u.HasPassword {
		t.Fatalf("carol: %+v %v; want grants %v and a password", u, err, want)
	}
	_, page := b.get("/ui/users")
	if !strings.Contains(page, "Roles of carol set.") || !strings.Contains(page, "approver project=shop env=production") {
		t.Errorf("users page after the change:\n%s", page)
	}
	resp, page = b.post("/ui/users/carol/grants", url.Values{"grants": {"viewer bogus=1"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "grants line 1") {
		t.Errorf("a bad grants line: %d\n%s", resp.StatusCode, page)
	}
	if resp, page := b.post("/ui/users", url.Values{"name": {"Bad Name"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(page, "user name") {
		t.Errorf("a bad user name: %d\n%s", resp.StatusCode, page)
	}
}

// TestCertificateAlertOnTheAlertsPage: the near-expiry certificate's
// built-in alert shows on the alerts page; an admin may acknowledge it
// (it is the server's: env.write), a viewer reads it without the button.
func TestCertificateAlertOnTheAlertsPage(t *testing.T) {
	f, _ := adminFixture(t)
	if err := f.a.Monitor.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin := f.browser()
	admin.mustLogin("admin", adminPW)
	_, page := admin.get("/ui/alerts")
	if !strings.Contains(page, "certificate-expiry") || !strings.Contains(page, "tls:edge.shop.test") ||
		!strings.Contains(page, "certificate expires in 4.") {
		t.Fatalf("no certificate alert on the alerts page:\n%s", page)
	}
	action := regexp.MustCompile(`action="(/ui/alerts/[^"]*certificate-expiry[^"]*/ack)"`).FindStringSubmatch(page)
	if action == nil {
		t.Fatalf("an admin has no Acknowledge button for the certificate alert:\n%s", page)
	}
	vera := f.browser()
	vera.mustLogin("vera", "viewer-password-1")
	if _, page := vera.get("/ui/alerts"); !strings.Contains(page, "tls:edge.shop.test") || strings.Contains(page, "/ack\"") {
		t.Errorf("a viewer: the certificate alert missing or acknowledgeable:\n%s", page)
	}
	if resp, page := admin.post(action[1], url.Values{"comment": {"renewing by hand"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d\n%s", resp.StatusCode, page)
	}
}

// TestVaultPageWithoutAnOpenVault: a vault never initialized still shows
// its state, with why the secrets cannot be listed, what to run (init or
// unseal), and no claim that nothing expires, which it cannot know. The
// server, started without --backup-repo, takes no backups either: the
// overview says so, with no schedule, no "ok" state and no Back up now
// button, which could only fail.
func TestVaultPageWithoutAnOpenVault(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	_, overview := b.get("/")
	if !strings.Contains(overview, "Backups</h2>") || !strings.Contains(overview, "This server takes no backups: start it with <code>--backup-repo</code>") {
		t.Fatalf("the overview does not say the server takes no backups:\n%s", overview)
	}
	for _, no := range []string{"Back up now", "<dt>Schedule</dt>", "<dt>State</dt>"} {
		if strings.Contains(overview, no) {
			t.Errorf("the overview of a server without backups shows %q", no)
		}
	}
	resp, page := b.get("/ui/vault")
	if resp.StatusCode != 200 || !strings.Contains(page, "not initialized") || !strings.Contains(page, "No secrets") ||
		!strings.Contains(page, "phoenix vault init") || strings.Contains(page, "unseal") || strings.Contains(page, "Nothing expires") {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
	f.addUser("vera", "viewer", "viewer-password-1")
	vb := f.browser()
	vb.mustLogin("vera", "viewer-password-1")
	if resp, _ := vb.get("/ui/vault"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer's vault page (no secrets.list): %d", resp.StatusCode)
	}
	ctx := context.Background()
	if err := f.admin.Do(ctx, "POST", client.Path("vault", "init"), api.VaultKeyRequest{MasterKey: masterKey}, nil); err != nil {
		t.Fatal(err)
	}
	req := api.SecretRequest{Value: []byte(secretValue)}
	if err := f.admin.Do(ctx, "PUT", client.Path("secrets", "API_KEY"), req, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.admin.Do(ctx, "POST", client.Path("vault", "seal"), nil, nil); err != nil {
		t.Fatal(err)
	}
	resp, page = b.get("/ui/vault")
	if resp.StatusCode != 200 || !strings.Contains(page, `badge bad">sealed`) || !strings.Contains(page, "phoenix vault unseal") ||
		strings.Contains(page, secretValue) || strings.Contains(page, masterKey) || strings.Contains(page, "Nothing expires") {
		t.Fatalf("a sealed vault's page: %d\n%s", resp.StatusCode, page)
	}
}

// TestVaultPageShowsOnlyWhatTheUserMayList: the vault page's table of
// what expires soon shows the secrets the vault policy lets the user
// list, as its secrets table does. A user with secrets.list whom the
// policy lets list nothing saw there the name, version and expiry of
// every secret about to expire.
func TestVaultPageShowsOnlyWhatTheUserMayList(t *testing.T) {
	roles := filepath.Join(t.TempDir(), "roles.yaml")
	if err := os.WriteFile(roles, []byte("roles:\n  secret-lister:\n    permissions: [secrets.list]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := adminFixture(t, func(o *app.Options) { o.RolesFile = roles })
	f.addUserGrants("lena", "lister-password-1", auth.Grant{Role: "secret-lister"})
	for user, want := range map[string]struct {
		password string
		sees     bool
	}{"admin": {adminPW, true}, "lena": {"lister-password-1", false}} {
		b := f.browser()
		b.mustLogin(user, want.password)
		resp, body := b.get("/ui/vault")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Expiring within 30 days") {
			t.Fatalf("%s: /ui/vault = %d\n%s", user, resp.StatusCode, body)
		}
		if strings.Contains(body, "PROD_API_KEY") != want.sees {
			t.Errorf("%s: the vault page shows PROD_API_KEY: %v, want %v", user, !want.sees, want.sees)
		}
		if !want.sees && !strings.Contains(body, "Nothing expires within 30 days.") {
			t.Errorf("%s: the expiring table is not empty:\n%s", user, body)
		}
	}
}
