package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// The principals of the matrix: one per built-in role, a per-environment
// grant (contributor in staging, viewer in production), a role from
// configuration, a CI deploy token, and four bad credentials.
var (
	roles   = []string{"admin", "contributor", "viewer", "approver", "stager", "auditor", "ci"}
	badCred = []string{"none", "expired", "revoked", "forged"}
	public  = []string{"*"}
	anyone  = roles
	readers = []string{"admin", "contributor", "viewer", "approver", "stager", "ci"}
	// tokenUsers hold the tokens permission (the config role and deploy
	// tokens do not).
	tokenUsers = []string{"admin", "contributor", "viewer", "approver", "stager"}
)

// matrixCase is one endpoint called by every principal. allow lists who
// gets ok; those hidden names for the row get 404; every other role gets
// 403 and every bad credential 401.
type matrixCase struct {
	name    string
	pattern string
	req     func(f *fixture, who string) (path string, body any)
	allow   []string
	ok      int
}

// hidden lists, per row, who gets 404: they may not see the resource, so
// the answer must not confirm that it exists. The staging deploy token
// does not see a run acting on production.
var hidden = map[string][]string{
	"cancel production run": {"ci"},
	"approve":               {"ci"},
	"reject":                {"ci"},
}

func (c matrixCase) method() string { m, _, _ := strings.Cut(c.pattern, " "); return m }

func fixed(path string, body any) func(*fixture, string) (string, any) {
	return func(*fixture, string) (string, any) { return path, body }
}

func self(who string) string {
	if who == "ci" {
		return "contributor" // the deploy token's owner
	}
	return who
}

func matrix() []matrixCase {
	envs := "/api/v1/projects/shop/environments"
	rollback := func(env string) func(*fixture, string) (string, any) {
		return func(f *fixture, _ string) (string, any) {
			return envs + "/" + env + "/rollback", RollbackRequest{To: f.inactive(env)}
		}
	}
	finalize := func(env string) func(*fixture, string) (string, any) {
		return func(f *fixture, _ string) (string, any) {
			return "/api/v1/uploads/" + f.ready() + "/finalize", FinalizeRequest{Environment: env}
		}
	}
	return append([]matrixCase{
		{"health", "GET /api/v1/health", fixed("/api/v1/health", nil), public, 200},
		{"version", "GET /api/v1/version", fixed("/api/v1/version", nil), public, 200},
		{"openapi", "GET /api/v1/openapi.json", fixed("/api/v1/openapi.json", nil), public, 200},
		{"login", "POST /api/v1/login", fixed("/api/v1/login", LoginRequest{User: "pwuser", Password: "correct horse battery"}), public, 200},
		{"logout", "POST /api/v1/logout", fixed("/api/v1/logout", nil), anyone, 204},
		{"me", "GET /api/v1/me", fixed("/api/v1/me", nil), anyone, 200},
		{"roles", "GET /api/v1/roles", fixed("/api/v1/roles", nil), anyone, 200},
		{"list users", "GET /api/v1/users", fixed("/api/v1/users", nil), []string{"admin"}, 200},
		{"add user", "POST /api/v1/users", func(f *fixture, _ string) (string, any) {
			return "/api/v1/users", UserRequest{Name: f.unique("new"), Grants: []auth.Grant{{Role: auth.RoleViewer}}}
		}, []string{"admin"}, 201},
		{"get own user", "GET /api/v1/users/{name}", func(_ *fixture, who string) (string, any) {
			return "/api/v1/users/" + self(who), nil
		}, anyone, 200},
		{"get other user", "GET /api/v1/users/{name}", fixed("/api/v1/users/target", nil), []string{"admin"}, 200},
		{"set grants", "PUT /api/v1/users/{name}/grants", fixed("/api/v1/users/target/grants",
			GrantsRequest{Grants: []auth.Grant{{Role: auth.RoleViewer, Environment: "staging"}}}), []string{"admin"}, 200},
		{"set email", "PUT /api/v1/users/{name}/email", fixed("/api/v1/users/target/email",
			EmailRequest{Email: "target@example.com"}), []string{"admin"}, 200},
		{"enable user", "PUT /api/v1/users/{name}/disabled", fixed("/api/v1/users/target/disabled",
			DisabledRequest{Disabled: false}), []string{"admin"}, 200},
		{"set own password", "PUT /api/v1/users/{name}/password", func(_ *fixture, who string) (string, any) {
			return "/api/v1/users/" + self(who) + "/password", PasswordRequest{Password: "a long enough passphrase"}
		}, []string{"admin", "contributor", "viewer", "approver", "stager", "auditor"}, 204},
		{"set other password", "PUT /api/v1/users/{name}/password", fixed("/api/v1/users/target/password",
			PasswordRequest{Password: "a long enough passphrase"}), []string{"admin"}, 204},
		{"list own tokens", "GET /api/v1/tokens", fixed("/api/v1/tokens", nil), tokenUsers, 200},
		{"list all tokens", "GET /api/v1/tokens", fixed("/api/v1/tokens?all=true", nil), []string{"admin"}, 200},
		{"create token", "POST /api/v1/tokens", fixed("/api/v1/tokens", TokenRequest{Name: "matrix", TTL: "1h"}), tokenUsers, 201},
		{"revoke own token", "DELETE /api/v1/tokens/{id}", func(f *fixture, who string) (string, any) {
			owner := self(who)
			if slices.Contains(badCred, who) {
				owner = "admin"
			}
			return "/api/v1/tokens/" + auth.TokenID(f.mint(owner, auth.TokenRequest{})), nil
		}, tokenUsers, 204},
		{"audit log", "GET /api/v1/audit", fixed("/api/v1/audit?limit=5", nil), []string{"admin", "auditor"}, 200},
		{"audit export", "GET /api/v1/audit/export", fixed("/api/v1/audit/export?action=access.*", nil), []string{"admin", "auditor"}, 200},
		{"audit verify", "GET /api/v1/audit/verify", fixed("/api/v1/audit/verify", nil), []string{"admin", "auditor"}, 200},
		{"list projects", "GET /api/v1/projects", fixed("/api/v1/projects", nil), readers, 200},
		{"list environments", "GET /api/v1/projects/{project}/environments", fixed(envs, nil), readers, 200},
		{"change environment", "PUT /api/v1/projects/{project}/environments/{env}", func(f *fixture, _ string) (string, any) {
			return envs + "/" + f.unique("qa"), EnvRequest{}
		}, []string{"admin"}, 200},
		{"redeclare staging unchanged", "PUT /api/v1/projects/{project}/environments/{env}", fixed(envs+"/staging", EnvRequest{}),
			[]string{"admin", "contributor", "stager", "ci"}, 200},
		{"redeclare production unchanged", "PUT /api/v1/projects/{project}/environments/{env}", fixed(envs+"/production", EnvRequest{Locked: true}),
			[]string{"admin", "contributor"}, 200},
		{"edge policy", "GET /api/v1/projects/{project}/edge", fixed("/api/v1/projects/shop/edge", nil), readers, 200},
		{"change edge policy", "PUT /api/v1/projects/{project}/edge", func(f *fixture, _ string) (string, any) {
			return "/api/v1/projects/shop/edge", map[string]any{"headers": []any{map[string]any{"name": f.unique("rule"), "remove": []string{"Server"}}}}
		}, []string{"admin"}, 200},
		{"resend edge policy unchanged", "PUT /api/v1/projects/{project}/edge", func(f *fixture, _ string) (string, any) {
			e, err := f.dep.EdgePolicy(bg, "shop")
			if err != nil || e == nil {
				return "/api/v1/projects/shop/edge", map[string]any{}
			}
			return "/api/v1/projects/shop/edge", e
		}, []string{"admin", "contributor", "stager", "ci"}, 200}, // what phoenix deploy sends with a deploy token
		{"delete environment", "DELETE /api/v1/projects/{project}/environments/{env}", func(f *fixture, _ string) (string, any) {
			name := f.unique("tmp")
			f.dep.EnsureEnvironment(bg, "shop", deploy.EnvSpec{Name: name})
			return envs + "/" + name, nil
		}, []string{"admin"}, 204},
		{"staging history", "GET /api/v1/projects/{project}/environments/{env}/deployments", fixed(envs+"/staging/deployments", nil), readers, 200},
		{"production history", "GET /api/v1/projects/{project}/environments/{env}/deployments", fixed(envs+"/production/deployments", nil),
			[]string{"admin", "contributor", "viewer", "approver", "stager"}, 200},
		{"staging activations", "GET /api/v1/projects/{project}/environments/{env}/activations", fixed(envs+"/staging/activations", nil), readers, 200},
		{"production activations", "GET /api/v1/projects/{project}/environments/{env}/activations", fixed(envs+"/production/activations", nil),
			[]string{"admin", "contributor", "viewer", "approver", "stager"}, 200},
		{"rollback staging", "POST /api/v1/projects/{project}/environments/{env}/rollback", rollback("staging"),
			[]string{"admin", "contributor", "stager", "ci"}, 200},
		{"rollback production", "POST /api/v1/projects/{project}/environments/{env}/rollback", rollback("production"),
			[]string{"admin", "contributor"}, 200},
		{"begin upload", "POST /api/v1/projects/{project}/uploads", func(f *fixture, _ string) (string, any) {
			canon, _, _ := f.manifest("begin")
			return "/api/v1/projects/shop/uploads", rawJSON(canon)
		}, []string{"admin", "contributor", "stager", "ci"}, 200},
		{"put blob", "PUT /api/v1/uploads/{id}/blobs/{digest}", func(f *fixture, _ string) (string, any) {
			id, d, content := f.upload()
			return "/api/v1/uploads/" + id + "/blobs/" + string(d), content
		}, []string{"admin", "contributor", "stager", "ci"}, 204},
		{"finalize to staging", "POST /api/v1/uploads/{id}/finalize", finalize("staging"), []string{"admin", "contributor", "stager", "ci"}, 201},
		{"finalize to production", "POST /api/v1/uploads/{id}/finalize", finalize("production"), []string{"admin", "contributor"}, 201},
		{"gc", "POST /api/v1/gc", fixed("/api/v1/gc", nil), []string{"admin"}, 200},
		{"certificates", "GET /api/v1/certificates", fixed("/api/v1/certificates", nil), readers, 200},
	}, slices.Concat(vaultMatrix(), pipelineMatrix(), monitorMatrix(), reportMatrix())...)
}

// monitorMatrix is the monitor's rows: reading for readers, silencing for
// those who may deploy there (everywhere: env.write).
func monitorMatrix() []matrixCase {
	silence := func(env string) SilenceRequest {
		return SilenceRequest{Project: "shop", Environment: env, For: "1h", Comment: "matrix"}
	}
	return []matrixCase{
		{"status", "GET /api/v1/status", fixed("/api/v1/status", nil), readers, 200},
		{"alerts", "GET /api/v1/alerts", fixed("/api/v1/alerts?all=true", nil), readers, 200},
		{"alert history", "GET /api/v1/alerts/history", fixed("/api/v1/alerts/history?limit=10", nil), readers, 200},
		{"silences", "GET /api/v1/silences", fixed("/api/v1/silences?all=true", nil), readers, 200},
		{"silence staging", "POST /api/v1/silences", fixed("/api/v1/silences", silence("staging")),
			[]string{"admin", "contributor", "stager", "ci"}, 201},
		{"silence production", "POST /api/v1/silences", fixed("/api/v1/silences", silence("production")),
			[]string{"admin", "contributor"}, 201},
		{"silence everything", "POST /api/v1/silences", fixed("/api/v1/silences", SilenceRequest{For: "10m", Maintenance: true, Comment: "upgrade"}),
			[]string{"admin"}, 201},
		{"expire staging silence", "DELETE /api/v1/silences/{id}", func(f *fixture, _ string) (string, any) {
			s, err := f.mon.AddSilence(bg, monitor.Silence{Environment: "staging.shop", Ends: time.Now().Add(time.Hour), Comment: "to expire"})
			if err != nil {
				f.t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/silences/%d", s.ID), nil
		}, []string{"admin", "contributor", "stager", "ci"}, 204},
		{"public status page", "GET /status/{path...}", fixed("/status/", nil), public, 200},
		{"ack staging alert", "POST /api/v1/alerts/{id}/ack", func(f *fixture, _ string) (string, any) {
			return "/api/v1/alerts/" + f.firing("staging.shop") + "/ack", AckRequest{Comment: "on it"}
		}, []string{"admin", "contributor", "stager", "ci"}, 200},
		{"ack production alert", "POST /api/v1/alerts/{id}/ack", func(f *fixture, _ string) (string, any) {
			return "/api/v1/alerts/" + f.firing("production.shop") + "/ack", AckRequest{}
		}, []string{"admin", "contributor"}, 200},
		{"unack staging alert", "DELETE /api/v1/alerts/{id}/ack", func(f *fixture, _ string) (string, any) {
			id := f.firing("staging.shop")
			if _, err := f.mon.Acknowledge(bg, id, "seed", ""); err != nil {
				f.t.Fatal(err)
			}
			return "/api/v1/alerts/" + id + "/ack", nil
		}, []string{"admin", "contributor", "stager", "ci"}, 200},
	}
}

// pipelineMatrix is the pipeline's rows. Runs are of project shop; a
// production run waits at its approval gate, so each caller that may
// cancel, approve or reject gets a fresh one.
func pipelineMatrix() []matrixCase {
	deployers := []string{"admin", "contributor", "stager", "ci"}
	prodDeployers := []string{"admin", "contributor"}
	approvers := []string{"admin", "approver"}
	gated := func(suffix string, body any) func(*fixture, string) (string, any) {
		return func(f *fixture, _ string) (string, any) {
			return fmt.Sprintf("/api/v1/runs/%d%s", f.run(f.gated, "production"), suffix), body
		}
	}
	done := func(suffix string) func(*fixture, string) (string, any) {
		return func(f *fixture, _ string) (string, any) { return fmt.Sprintf("/api/v1/runs/%d%s", f.done, suffix), nil }
	}
	return []matrixCase{
		{"release to staging", "POST /api/v1/releases", func(f *fixture, _ string) (string, any) {
			return "/api/v1/releases", ReleaseRequest{Dir: f.quick, Version: "2.0." + f.unique(""), Environments: []string{"staging"}}
		}, deployers, 201},
		{"release to production", "POST /api/v1/releases", func(f *fixture, _ string) (string, any) {
			return "/api/v1/releases", ReleaseRequest{Dir: f.gated, Version: "3.0." + f.unique(""), Environments: []string{"production"}}
		}, prodDeployers, 201},
		{"list runs", "GET /api/v1/runs", fixed("/api/v1/runs?project=shop", nil), readers, 200},
		{"get run", "GET /api/v1/runs/{id}", done(""), readers, 200},
		{"run logs", "GET /api/v1/runs/{id}/logs", done("/logs"), readers, 200},
		{"retry staging run", "POST /api/v1/runs/{id}/retry", done("/retry"), deployers, 201},
		{"cancel production run", "POST /api/v1/runs/{id}/cancel", gated("/cancel", nil), prodDeployers, 200},
		{"approve", "POST /api/v1/runs/{id}/approve", gated("/approve", DecisionRequest{Comment: "lgtm"}), approvers, 204},
		{"reject", "POST /api/v1/runs/{id}/reject", gated("/reject", DecisionRequest{Comment: "not now"}), approvers, 204},
		{"webhook of no workflow", "POST /hooks/{project}/{workflow}", fixed("/hooks/shop/nope", nil), public, 404},
	}
}

// vaultMatrix is the vault's rows: status for anyone signed in, the rest
// for holders of secrets.* and vault.manage (admin by default).
func vaultMatrix() []matrixCase {
	admin := []string{"admin"}
	key := VaultKeyRequest{MasterKey: testMasterKey}
	sec := "/api/v1/secrets/"
	on := func(make func(f *fixture) string, suffix string, body any) func(*fixture, string) (string, any) {
		return func(f *fixture, _ string) (string, any) { return sec + make(f) + suffix, body }
	}
	live := func(f *fixture) string { return f.secret("LIVE") }
	gone := func(f *fixture) string { return f.deleted("GONE") }
	random := &vault.RotationPolicy{EveryDays: 30, Generator: vault.GeneratorSpec{Type: "random", Length: 24}}
	return []matrixCase{
		{"vault status", "GET /api/v1/vault/status", fixed("/api/v1/vault/status", nil), anyone, 200},
		{"vault init again", "POST /api/v1/vault/init", fixed("/api/v1/vault/init", key), admin, 409},
		{"vault seal", "POST /api/v1/vault/seal", fixed("/api/v1/vault/seal", nil), admin, 200},
		{"vault unseal", "POST /api/v1/vault/unseal", fixed("/api/v1/vault/unseal", key), admin, 200},
		{"vault check", "POST /api/v1/vault/check", fixed("/api/v1/vault/check", key), admin, 200},
		{"vault rekey (a wrong old key)", "POST /api/v1/vault/rekey", fixed("/api/v1/vault/rekey",
			VaultRekeyRequest{OldMasterKey: "not the master key 4711", NewMasterKey: "a new master key 4712"}), admin, 400},
		{"vault import", "POST /api/v1/vault/import", func(f *fixture, _ string) (string, any) {
			return "/api/v1/vault/import", ImportRequest{Entries: []ImportEntry{{Name: f.unique("IMPORTED"), Line: 1, Value: []byte("x1-value")}}}
		}, admin, 200},
		{"vault expiring", "GET /api/v1/vault/expiring", fixed("/api/v1/vault/expiring?within=30d", nil), admin, 200},
		{"list secrets", "GET /api/v1/secrets", fixed("/api/v1/secrets", nil), admin, 200},
		{"describe secret", "GET /api/v1/secrets/{name}", fixed(sec+"MATRIX_KEY", nil), admin, 200},
		{"set secret", "PUT /api/v1/secrets/{name}", func(f *fixture, _ string) (string, any) {
			return sec + f.unique("SET"), SecretRequest{Value: []byte("set-value")}
		}, admin, 201},
		{"delete secret", "DELETE /api/v1/secrets/{name}", on(live, "", nil), admin, 200},
		{"purge secret", "DELETE /api/v1/secrets/{name}", on(gone, "?purge=true", nil), admin, 200},
		{"secret versions", "GET /api/v1/secrets/{name}/versions", fixed(sec+"MATRIX_KEY/versions", nil), admin, 200},
		{"disable version", "PATCH /api/v1/secrets/{name}/versions/{version}", on(live, "/versions/1", VersionRequest{}), admin, 204},
		{"read value", "GET /api/v1/secrets/{name}/value", fixed(sec+"MATRIX_KEY/value", nil), admin, 200},
		{"set tags", "PUT /api/v1/secrets/{name}/tags", on(live, "/tags", TagsRequest{Tags: map[string]string{"team": "web"}}), admin, 204},
		{"set rotation", "PUT /api/v1/secrets/{name}/rotation", on(live, "/rotation", RotationRequest{Policy: random}), admin, 204},
		{"set command rotation", "PUT /api/v1/secrets/{name}/rotation", on(live, "/rotation", RotationRequest{Policy: &vault.RotationPolicy{
			EveryDays: 30, Generator: vault.GeneratorSpec{Type: "command", Command: []string{"/bin/echo", "new"}}}}), admin, 204},
		{"rotate", "POST /api/v1/secrets/{name}/rotate", func(f *fixture, _ string) (string, any) {
			name := f.secret("ROT")
			if err := f.vault.SetRotation(bg, vault.Subject{Actor: "seed", Roles: []string{"admin"}}, name, random); err != nil {
				f.t.Fatal(err)
			}
			return sec + name + "/rotate", nil
		}, admin, 201},
		{"recover secret", "POST /api/v1/secrets/{name}/recover", on(gone, "/recover", nil), admin, 204},
	}
}

func TestEveryEndpointWithEveryRole(t *testing.T) {
	f := newFixture(t)
	cases := matrix()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.pattern] = true
	}
	for _, rt := range f.api.Routes() {
		if !covered[rt.Pattern()] {
			t.Errorf("route %s is not in the authorization matrix; add a row", rt.Pattern())
		}
	}
	for _, c := range cases {
		for _, who := range append(append([]string{}, roles...), badCred...) {
			want := http.StatusForbidden
			switch {
			case slices.Equal(c.allow, public) || slices.Contains(c.allow, who):
				want = c.ok
			case slices.Contains(badCred, who):
				want = http.StatusUnauthorized
			case slices.Contains(hidden[c.name], who):
				want = http.StatusNotFound
			}
			t.Run(c.name+"/"+who, func(t *testing.T) {
				path, body := c.req(f, who)
				if raw, ok := body.(rawJSON); ok {
					body = []byte(raw)
				}
				status, out, _ := f.call(who, c.method(), path, body)
				if status != want {
					t.Fatalf("%s %s as %s = %d, want %d: %s", c.method(), path, who, status, want, out)
				}
				if status == http.StatusUnauthorized && !strings.Contains(string(out), `"missing or invalid token"`) {
					t.Fatalf("401 says more than it should: %s", out)
				}
			})
		}
	}
	rep, err := f.log.Verify(bg)
	if err != nil || !rep.OK {
		t.Fatalf("audit log after the matrix: %+v %v", rep, err)
	}
	denied, _ := f.log.Query(bg, audit.Filter{Action: "access.denied"})
	if len(denied) < len(cases) {
		t.Fatalf("only %d denials audited", len(denied))
	}
}

// rawJSON is a body sent as is.
type rawJSON []byte

// TestAHandlersDenialNamesItsRoute: a denial a handler writes (the
// environments are in the body) is audited with the route's pattern, as
// the guard's are; it read "POST POST /api/v1/releases".
func TestAHandlersDenialNamesItsRoute(t *testing.T) {
	f := newFixture(t)
	status, out, _ := f.call("ci", "POST", "/api/v1/releases", ReleaseRequest{Dir: f.gated, Version: "3.1.0", Environments: []string{"production"}})
	if status != http.StatusForbidden {
		t.Fatalf("release to production with the staging token: %d %s", status, out)
	}
	recs, err := f.log.Query(bg, audit.Filter{Action: "access.denied", Newest: true, Limit: 1})
	if err != nil || len(recs) != 1 || recs[0].Target != "POST /api/v1/releases" {
		t.Fatalf("denial record: %+v, %v; want target POST /api/v1/releases", recs, err)
	}
}
