package auth

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

var ctx = context.Background()

// cheap keeps argon2id fast in tests; production uses DefaultArgon2.
var cheap = Argon2{Time: 1, Memory: 64, Threads: 1}

type fixture struct {
	svc  *Service
	db   *store.DB
	log  *audit.Log
	now  time.Time
	path string // the database's (testkit.OpenStore)
}

func newFixture(t testing.TB, roles ...Role) *fixture {
	t.Helper()
	return newFixtureWith(t, Options{Roles: roles})
}

// newFixtureWith is newFixture with opts; the database, audit log,
// clock and argon2 cost are the fixture's.
func newFixtureWith(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "state.db"), now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	f.db = testkit.OpenStore(t, f.path)
	if err := f.db.Migrate(ctx, audit.Migrations(), Migrations()); err != nil {
		t.Fatal(err)
	}
	f.log = audit.New(audit.Options{DB: f.db, Now: f.clock})
	f.svc = f.service(t, f.db, f.log, opts)
	return f
}

func (f *fixture) clock() time.Time { return f.now }

// service is a Service on db with opts and the fixture's clock.
func (f *fixture) service(t testing.TB, db *store.DB, log *audit.Log, opts Options) *Service {
	t.Helper()
	opts.DB, opts.Audit, opts.Now, opts.Argon2 = db, log, f.clock, cheap
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// replica is another server on the fixture's database, with its own
// handle, audit log and Service, and the fixture's clock.
func (f *fixture) replica(t testing.TB, opts Options) *Service {
	t.Helper()
	db := testkit.OpenStore(t, f.path)
	return f.service(t, db, audit.New(audit.Options{DB: db, Now: f.clock}), opts)
}

func (f *fixture) user(t testing.TB, name string, grants ...Grant) *Principal {
	t.Helper()
	u, err := f.svc.CreateUser(ctx, name, "correct horse battery", grants)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := f.svc.principal(ctx, u.id)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

func (f *fixture) token(t testing.TB, pr *Principal, req TokenRequest) string {
	t.Helper()
	_, secret, err := f.svc.CreateToken(ctx, pr, req)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestCanPerEnvironmentAndScope(t *testing.T) {
	f := newFixture(t, Role{Name: "release-manager", Permissions: []Permission{Read, Deploy, Approve}})
	mixed := f.user(t, "mixed", Grant{Role: RoleContributor, Environment: "staging"}, Grant{Role: RoleViewer, Environment: "production"})
	admin := f.user(t, "root", Grant{Role: RoleAdmin})
	stagingAdmin := f.user(t, "sadmin", Grant{Role: RoleAdmin, Environment: "staging"})
	rm := f.user(t, "rm", Grant{Role: "release-manager", Project: "shop"})
	readTok, _ := f.svc.Authenticate(ctx, f.token(t, admin, TokenRequest{Scopes: []Permission{Read}}))
	deployTok, _ := f.svc.Authenticate(ctx, f.token(t, mixed, TokenRequest{Kind: KindDeploy, Project: "shop", Environment: "staging"}))
	staging, prod := Resource{"shop", "staging"}, Resource{"shop", "production"}
	cases := []struct {
		name string
		pr   *Principal
		p    Permission
		res  Resource
		want bool
	}{
		{"contributor deploys to staging", mixed, Deploy, staging, true},
		{"contributor-in-staging cannot deploy to production", mixed, Deploy, prod, false},
		{"viewer-in-production reads production", mixed, Read, prod, true},
		{"per-env grant gives no global permission", stagingAdmin, UsersAdmin, Resource{}, false},
		{"per-env admin changes its environment", stagingAdmin, EnvWrite, staging, true},
		{"per-env admin cannot change another", stagingAdmin, EnvWrite, prod, false},
		{"admin manages users", admin, UsersAdmin, Resource{}, true},
		{"config role in its project", rm, Approve, prod, true},
		{"config role outside its project", rm, Deploy, Resource{"blog", "staging"}, false},
		{"config role lacks gc", rm, GC, Resource{}, false},
		{"read-scoped admin token reads", readTok, Read, prod, true},
		{"read-scoped admin token cannot deploy", readTok, Deploy, staging, false},
		{"read-scoped admin token cannot manage users", readTok, UsersAdmin, Resource{}, false},
		{"deploy token deploys to its env", deployTok, Deploy, staging, true},
		{"deploy token uploads (env not yet named)", deployTok, Deploy, Resource{Project: "shop"}, true},
		{"deploy token cannot deploy elsewhere", deployTok, Deploy, prod, false},
		{"deploy token cannot deploy to another project", deployTok, Deploy, Resource{"blog", "staging"}, false},
		{"deploy token cannot make tokens", deployTok, Tokens, Resource{}, false},
		{"nil principal", nil, Read, staging, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.pr.Can(c.p, c.res); got != c.want {
				t.Fatalf("Can(%s, %s) = %v", c.p, c.res, got)
			}
			if got := decoded(t, c.pr).WithRoles(f.svc.Roles()).Can(c.p, c.res); got != c.want {
				t.Fatalf("a principal decoded from JSON, with the roles: Can(%s, %s) = %v", c.p, c.res, got)
			}
		})
	}
}

// TestRefusalSaysWhatRefused: a refusal the user's roles would pass, but
// their token's scopes or target do not, says so and how to make a token
// that can (an admin with a read token was told to ask an admin); one the
// roles refuse keeps the hint to ask for a grant.
func TestRefusalSaysWhatRefused(t *testing.T) {
	f := newFixture(t)
	admin := f.user(t, "root", Grant{Role: RoleAdmin})
	viewer := f.user(t, "vi", Grant{Role: RoleViewer})
	readTok, _ := f.svc.Authenticate(ctx, f.token(t, admin, TokenRequest{Scopes: []Permission{Read}}))
	stagingTok, _ := f.svc.Authenticate(ctx, f.token(t, admin, TokenRequest{Kind: KindDeploy, Project: "shop", Environment: "staging"}))
	staging, prod := Resource{"shop", "staging"}, Resource{"shop", "production"}
	for _, c := range []struct {
		name      string
		pr        *Principal
		res       Resource
		msg, hint string
	}{
		{"scope", readTok, staging, "is limited to scopes read", "make a token with that scope: phoenix token create --scope deploy,read"},
		{"target", stagingTok, prod, "is limited to shop/staging", "use a token of your own for shop/production"},
		{"roles", viewer, staging, "permission denied: deploy on shop/staging", "ask an admin: phoenix user grant USER ROLE [--env ENV]"},
	} {
		err := Require(c.pr, Deploy, c.res)
		var ue *usererr.Error
		if !errors.As(err, &ue) || ue.Kind != usererr.Forbidden || !strings.Contains(ue.Error(), c.msg) || !strings.Contains(ue.Hint, c.hint) {
			t.Errorf("%s: %v (hint %q)", c.name, err, func() string {
				if ue != nil {
					return ue.Hint
				}
				return ""
			}())
		}
	}
}

// decoded is pr as a client of /api/v1/me sees it: without its roles.
func decoded(t *testing.T, pr *Principal) Principal {
	t.Helper()
	var out Principal
	b, err := json.Marshal(pr)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		t.Fatal(err)
	}
	if pr != nil && out.Can(Read, Resource{}) {
		t.Fatal("a decoded principal without roles may read")
	}
	return out
}

func TestTokensAuthenticateExpireRevoke(t *testing.T) {
	f := newFixture(t)
	alice := f.user(t, "alice", Grant{Role: RoleContributor})
	tok, secret, err := f.svc.CreateToken(ctx, alice, TokenRequest{Name: "laptop", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	f.db.QueryRowContext(ctx, `SELECT hash FROM auth_tokens WHERE id = $1`, tok.ID).Scan(&stored)
	if strings.Contains(stored, secret[4:]) || stored != tokenHash(secret) {
		t.Fatal("token not stored as its hash")
	}
	pr, err := f.svc.Authenticate(ctx, secret)
	if err != nil || pr.User != "alice" || pr.TokenID != tok.ID {
		t.Fatalf("authenticate: %+v %v", pr, err)
	}
	forged := secret[:len(secret)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", secret[len(secret)-1])+1)%16])
	for name, bad := range map[string]string{"forged": forged, "empty": "", "garbage": "phx_nothex", "other prefix": "ghp_" + secret[4:]} {
		if _, err := f.svc.Authenticate(ctx, bad); usererr.KindOf(err) != usererr.Unauthorized {
			t.Errorf("%s token: %v", name, err)
		}
	}
	f.now = f.now.Add(time.Hour)
	if _, err := f.svc.Authenticate(ctx, secret); err == nil || err.Error() != errUnauthorized.Error() {
		t.Fatalf("expired token: %v", err)
	}
	_, secret2, _ := f.svc.CreateToken(ctx, alice, TokenRequest{})
	if err := f.svc.RevokeToken(ctx, alice, TokenID(secret2)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, secret2); err == nil || err.Error() != errUnauthorized.Error() {
		t.Fatalf("revoked token: %v", err)
	}
	list, _ := f.svc.Tokens(ctx, "alice")
	if len(list) != 2 || list[1].RevokedAt == nil {
		t.Fatalf("tokens: %+v", list)
	}
	bob := f.user(t, "bob", Grant{Role: RoleViewer})
	if err := f.svc.RevokeToken(ctx, bob, tok.ID); usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("bob revoked alice's token: %v", err)
	}
}

func TestTokenRequestsThatMustFail(t *testing.T) {
	f := newFixture(t)
	viewer := f.user(t, "vic", Grant{Role: RoleViewer})
	contrib := f.user(t, "carl", Grant{Role: RoleContributor, Environment: "staging"})
	readTok, _ := f.svc.Authenticate(ctx, f.token(t, contrib, TokenRequest{Scopes: []Permission{Read, Tokens}}))
	cases := []struct {
		name string
		pr   *Principal
		req  TokenRequest
		kind usererr.Kind
	}{
		{"scope not held", viewer, TokenRequest{Scopes: []Permission{Deploy}}, usererr.Forbidden},
		{"unknown scope", viewer, TokenRequest{Scopes: []Permission{"root"}}, usererr.Invalid},
		{"wider than the token used", readTok, TokenRequest{Scopes: []Permission{Deploy}}, usererr.Forbidden},
		{"deploy token without deploy right", viewer, TokenRequest{Kind: KindDeploy, Project: "shop", Environment: "staging"}, usererr.Forbidden},
		{"deploy token for another env", contrib, TokenRequest{Kind: KindDeploy, Project: "shop", Environment: "production"}, usererr.Forbidden},
		{"deploy token without env", contrib, TokenRequest{Kind: KindDeploy, Project: "shop"}, usererr.Invalid},
		{"deploy token too long", contrib, TokenRequest{Kind: KindDeploy, Project: "shop", Environment: "staging", TTL: 48 * time.Hour}, usererr.Invalid},
		{"api token too long", contrib, TokenRequest{TTL: 400 * 24 * time.Hour}, usererr.Invalid},
		{"api token with a target", contrib, TokenRequest{Project: "shop"}, usererr.Invalid},
		{"unknown kind", contrib, TokenRequest{Kind: "root"}, usererr.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := f.svc.CreateToken(ctx, c.pr, c.req); usererr.KindOf(err) != c.kind {
				t.Fatalf("err = %v, want kind %s", err, c.kind.Code())
			}
		})
	}
	// A token scoped "*" made with a narrow token stays narrow.
	pr, _ := f.svc.Authenticate(ctx, f.token(t, readTok, TokenRequest{}))
	if pr.Can(Deploy, Resource{"shop", "staging"}) {
		t.Fatal("a token minted by a read token can deploy")
	}
}

// TestTokenLifetimeMessages: a lifetime out of bounds is refused in days,
// hours or minutes, as the docs and the user write them.
func TestTokenLifetimeMessages(t *testing.T) {
	f := newFixture(t)
	contrib := f.user(t, "carl", Grant{Role: RoleContributor, Environment: "staging"})
	for _, c := range []struct {
		req  TokenRequest
		want string
	}{
		{TokenRequest{TTL: 400 * 24 * time.Hour}, "token lifetime 400 days: an API token lives at most 366 days"},
		{TokenRequest{TTL: 30 * time.Second}, "token lifetime 30s: a token lives at least 1 minute"},
		{TokenRequest{Kind: KindDeploy, Project: "shop", Environment: "staging", TTL: 36 * time.Hour},
			"token lifetime 36 hours: a deploy token lives at most 24 hours"},
	} {
		if _, _, err := f.svc.CreateToken(ctx, contrib, c.req); err == nil || err.Error() != c.want {
			t.Errorf("%+v: %v, want %s", c.req, err, c.want)
		}
	}
	for d, want := range map[time.Duration]string{366 * 24 * time.Hour: "366 days", 24 * time.Hour: "24 hours",
		time.Hour: "1 hour", 90 * time.Minute: "90 minutes", time.Minute: "1 minute", 90 * time.Second: "1m30s"} {
		if got := Lifetime(d); got != want {
			t.Errorf("Lifetime(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestBootstrap(t *testing.T) {
	f := newFixture(t)
	tok, minted, err := f.svc.Bootstrap(ctx, "")
	if err != nil || !minted {
		t.Fatalf("first start: %v %v", minted, err)
	}
	pr, err := f.svc.Authenticate(ctx, tok)
	if err != nil || pr.User != BootstrapUser || !pr.Can(UsersAdmin, Resource{}) {
		t.Fatalf("bootstrap token: %+v %v", pr, err)
	}
	again, minted, err := f.svc.Bootstrap(ctx, tok)
	if err != nil || minted || again != tok {
		t.Fatalf("second start: %v %v", minted, err)
	}
	// A token file from before users existed is adopted.
	f2 := newFixture(t)
	legacy := "phx_" + strings.Repeat("ab", 32)
	if _, _, err := f2.svc.Bootstrap(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	if pr, err := f2.svc.Authenticate(ctx, legacy); err != nil || pr.User != "admin" {
		t.Fatalf("legacy token: %v", err)
	}
	// Revocation survives a restart.
	f.svc.RevokeToken(ctx, pr, TokenID(tok))
	if _, _, err := f.svc.Bootstrap(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, tok); err == nil {
		t.Fatal("a revoked admin token came back after a restart")
	}
	if _, _, err := f.svc.Bootstrap(ctx, "short"); err == nil {
		t.Fatal("malformed admin token file accepted")
	}
}

func TestLoginSessionsAndRateLimit(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", Grant{Role: RoleViewer})
	ses, err := f.svc.Login(ctx, nil, Credentials{Username: "alice", Password: "correct horse battery"}, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	pr, err := f.svc.SessionPrincipal(ctx, ses.Secret)
	if err != nil || pr.User != "alice" || pr.Via != "session" {
		t.Fatalf("session: %+v %v", pr, err)
	}
	if !CheckCSRF(ses.Secret, ses.CSRF) || CheckCSRF(ses.Secret, "") || CheckCSRF(ses.Secret, CSRFToken("other")) {
		t.Fatal("csrf check wrong")
	}
	for name, c := range map[string]Credentials{
		"wrong password": {Username: "alice", Password: "wrong horse battery"},
		"unknown user":   {Username: "nobody", Password: "correct horse battery"},
	} {
		_, err := f.svc.Login(ctx, nil, c, "10.0.0.2")
		if err == nil || err.Error() != "invalid user name or password" {
			t.Errorf("%s: %v", name, err)
		}
	}
	var limited bool
	for i := 0; i < 6; i++ {
		_, err := f.svc.Login(ctx, nil, Credentials{Username: "alice", Password: "guess number " + string(rune('a'+i))}, "10.0.0.3")
		limited = errors.Is(err, ErrRateLimited)
	}
	if !limited {
		t.Fatal("6 attempts for one user within a minute were not limited")
	}
	f.now = f.now.Add(2 * time.Minute)
	if _, err := f.svc.Login(ctx, nil, Credentials{Username: "alice", Password: "correct horse battery"}, "10.0.0.3"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	f.now = f.now.Add(13 * time.Hour)
	if _, err := f.svc.SessionPrincipal(ctx, ses.Secret); err == nil {
		t.Fatal("expired session accepted")
	}
	recs, _ := f.log.Query(ctx, audit.Filter{Action: "auth.login"})
	outcomes := map[string]int{}
	for _, r := range recs {
		outcomes[r.Outcome]++
	}
	if outcomes[audit.OK] != 2 || outcomes[audit.Failed] < 2 || outcomes[audit.RateLimited] < 1 {
		t.Fatalf("login audit outcomes: %v", outcomes)
	}
}

func TestChangesFailWhenTheAuditLogCannotBeWritten(t *testing.T) {
	f := newFixture(t)
	admin := f.user(t, "root", Grant{Role: RoleAdmin})
	if _, err := f.db.ExecContext(ctx, `DROP TABLE audit_log`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateUser(ctx, "eve", "", nil); err == nil {
		t.Fatal("user created without an audit record")
	}
	if _, err := f.svc.User(ctx, "eve"); usererr.KindOf(err) != usererr.NotFound {
		t.Fatal("the user exists although the action failed")
	}
	if _, _, err := f.svc.CreateToken(ctx, admin, TokenRequest{}); err == nil {
		t.Fatal("token created without an audit record")
	}
	if _, err := f.svc.Login(ctx, nil, Credentials{Username: "root", Password: "correct horse battery"}, "x"); err == nil {
		t.Fatal("login without an audit record")
	}
}

func TestUsersAndGrants(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", Grant{Role: RoleViewer})
	if _, err := f.svc.CreateUser(ctx, "alice", "", nil); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("duplicate: %v", err)
	}
	bad := []struct {
		name, user, pw string
		g              []Grant
	}{
		{"bad name", "Alice!", "", nil},
		{"short password", "bob", "short", nil},
		{"unknown role", "bob", "", []Grant{{Role: "god"}}},
		{"bad env", "bob", "", []Grant{{Role: RoleViewer, Environment: "Prod!"}}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if _, err := f.svc.CreateUser(ctx, c.user, c.pw, c.g); usererr.KindOf(err) != usererr.Invalid {
				t.Fatalf("err = %v", err)
			}
		})
	}
	u, err := f.svc.SetGrants(ctx, "alice", []Grant{{Role: RoleContributor, Environment: "staging"}, {Role: RoleViewer, Environment: "production"}})
	if err != nil || len(u.Grants) != 2 {
		t.Fatalf("grants: %+v %v", u, err)
	}
	if err := f.svc.SetPassword(ctx, "alice", "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if !f.svc.CheckPassword(ctx, "alice", "a brand new passphrase") || f.svc.CheckPassword(ctx, "alice", "correct horse battery") {
		t.Fatal("password not changed")
	}
}

// TestGrantsDetail: user.add and user.grant name the grants, and say none
// when a user has none (an empty "grants: " read as a cut-off record).
func TestGrantsDetail(t *testing.T) {
	f := newFixture(t)
	f.user(t, "carol")
	f.user(t, "dave", Grant{Role: "viewer"})
	recs, err := f.log.Query(ctx, audit.Filter{Action: "user.add"})
	if err != nil || len(recs) != 2 || recs[0].Detail != "grants: none" || recs[1].Detail != "grants: viewer" {
		t.Fatalf("user.add records %+v %v", recs, err)
	}
}
