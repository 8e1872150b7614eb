package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestSecretValuesNeverLeak: a value set and read through the API appears
// in the one response that returns it and nowhere else: not in listings,
// metadata, history, expiry reports, the audit log or the server log (at
// debug level). Neither does the master key, right or wrong.
func TestSecretValuesNeverLeak(t *testing.T) {
	f := newFixture(t)
	const value = "s3cr3t-value-that-must-not-leak"
	const wrongKey = "not-the-master-key-4711"
	leaks := []string{value, base64.StdEncoding.EncodeToString([]byte(value)), testMasterKey, wrongKey, matrixValue,
		base64.StdEncoding.EncodeToString([]byte(matrixValue))}

	status, out, _ := f.call("admin", "PUT", "/api/v1/secrets/LEAK_TEST", SecretRequest{Value: []byte(value),
		Tags: map[string]string{"team": "web"}})
	if status != http.StatusCreated {
		t.Fatalf("set = %d %s", status, out)
	}
	status, out, hdr := f.call("admin", "GET", "/api/v1/secrets/LEAK_TEST/value", nil)
	var got SecretValue
	if status != 200 || json.Unmarshal(out, &got) != nil || string(got.Value) != value || got.Version != 1 {
		t.Fatalf("read = %d %s", status, out)
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("value response Cache-Control = %q", hdr.Get("Cache-Control"))
	}
	if status, out, _ := f.call("admin", "POST", "/api/v1/vault/unseal", VaultKeyRequest{MasterKey: wrongKey}); status != http.StatusBadRequest ||
		!strings.Contains(string(out), "wrong master key") {
		t.Fatalf("unseal with a wrong key = %d %s", status, out)
	}
	if status, out, _ := f.call("admin", "POST", "/api/v1/vault/unseal", VaultKeyRequest{MasterKey: testMasterKey}); status != 200 {
		t.Fatalf("unseal = %d %s", status, out)
	}
	if status, _, _ := f.call("viewer", "GET", "/api/v1/secrets/LEAK_TEST/value", nil); status != http.StatusForbidden {
		t.Fatalf("viewer read = %d, want 403", status)
	}
	reads := []string{"/api/v1/secrets", "/api/v1/secrets?deleted=true", "/api/v1/secrets/LEAK_TEST",
		"/api/v1/secrets/LEAK_TEST/versions", "/api/v1/vault/status", "/api/v1/vault/expiring?within=3650d",
		"/api/v1/audit?limit=1000", "/api/v1/audit/export"}
	for _, path := range reads {
		t.Run(path, func(t *testing.T) {
			status, out, _ := f.call("admin", "GET", path, nil)
			if status != 200 {
				t.Fatalf("GET %s = %d %s", path, status, out)
			}
			for _, l := range leaks {
				if strings.Contains(string(out), l) {
					t.Fatalf("GET %s contains %q:\n%s", path, l, out)
				}
			}
		})
	}
	f.logShowsNone(t, "/api/v1/secrets/LEAK_TEST/value", leaks)
}

// logShowsNone fails t when the server log holds one of leaks, or does
// not show seen (a request it must log), without which the check would
// prove nothing.
func (f *fixture) logShowsNone(t *testing.T, seen string, leaks []string) {
	t.Helper()
	logs := f.logs.String()
	if !strings.Contains(logs, seen) {
		t.Fatalf("the server log does not show %q; the test would prove nothing", seen)
	}
	for _, l := range leaks {
		if strings.Contains(logs, l) {
			t.Fatalf("the server log contains %q", l)
		}
	}
}

// TestSealedVaultAnswers503: a sealed vault refuses secret operations with
// a hint, and unsealing restores them.
func TestSealedVaultAnswers503(t *testing.T) {
	f := newFixture(t)
	if status, out, _ := f.call("admin", "POST", "/api/v1/vault/seal", nil); status != 200 || !strings.Contains(string(out), `"sealed": true`) {
		t.Fatalf("seal = %d %s", status, out)
	}
	status, out, _ := f.call("admin", "GET", "/api/v1/secrets/MATRIX_KEY/value", nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(out), "phoenix vault unseal") {
		t.Fatalf("read while sealed = %d %s", status, out)
	}
	if status, out, _ := f.call("admin", "POST", "/api/v1/vault/unseal", VaultKeyRequest{}); status != http.StatusBadRequest {
		t.Fatalf("unseal without a key = %d %s", status, out)
	}
	// Checking a key changes nothing: the vault stays sealed.
	for key, want := range map[string]int{testMasterKey: 200, "not-the-master-key-4711": http.StatusBadRequest} {
		status, out, _ := f.call("admin", "POST", "/api/v1/vault/check", VaultKeyRequest{MasterKey: key})
		if status != want || want == 200 && !strings.Contains(string(out), `"sealed": true`) {
			t.Fatalf("check = %d %s, want %d and still sealed", status, out, want)
		}
		if status, out, _ := f.call("admin", "GET", "/api/v1/secrets/MATRIX_KEY/value", nil); status != http.StatusServiceUnavailable {
			t.Fatalf("read after a key check = %d %s, want 503: still sealed", status, out)
		}
	}
	f.call("admin", "POST", "/api/v1/vault/unseal", VaultKeyRequest{MasterKey: testMasterKey})
	if status, out, _ := f.call("admin", "GET", "/api/v1/secrets/MATRIX_KEY/value", nil); status != 200 {
		t.Fatalf("read after unseal = %d %s", status, out)
	}
}

// TestSealIsAudited: sealing the vault is in the audit log (vault.seal,
// the actor who sealed it), as unsealing is; it was only in the server's
// log, so the audit trail showed an unseal with no seal before it.
func TestSealIsAudited(t *testing.T) {
	f := newFixture(t)
	if status, out, _ := f.call("admin", "POST", "/api/v1/vault/seal", nil); status != 200 {
		t.Fatalf("seal = %d %s", status, out)
	}
	recs, err := f.log.Query(context.Background(), audit.Filter{Action: "vault.seal"})
	if err != nil || len(recs) != 1 || recs[0].Actor != "admin" || recs[0].Target != "vault" || recs[0].Outcome != audit.OK ||
		recs[0].Source == "" {
		t.Fatalf("vault.seal records: %+v, %v", recs, err)
	}
}

// TestFailedChangeRecordsItsError: the audit record of a change refused
// with an error says what the caller was told, not only the status ("HTTP
// 400"), so an auditor can tell what went wrong; a token's secret in such
// a message is cut as in a path.
func TestFailedChangeRecordsItsError(t *testing.T) {
	f := newFixture(t)
	if status, out, _ := f.call("admin", "POST", "/api/v1/vault/unseal", VaultKeyRequest{}); status != http.StatusBadRequest {
		t.Fatalf("unseal without a key = %d %s", status, out)
	}
	recs, err := f.log.Query(context.Background(), audit.Filter{Action: "vault.unseal"})
	if err != nil || len(recs) != 1 || recs[0].Outcome != audit.Failed || recs[0].Detail != "HTTP 400: master_key is empty" {
		t.Fatalf("vault.unseal records: %+v, %v", recs, err)
	}
	req := httptest.NewRequest("POST", "/api/v1/tokens", nil)
	secret := "phx_0123456789abcdef0123456789abcdef"
	f.api.recordFailure(req, Route{Action: "test.refused"}, 400, "no such token "+secret+" here")
	recs, err = f.log.Query(context.Background(), audit.Filter{Action: "test.refused"})
	if err != nil || len(recs) != 1 || strings.Contains(recs[0].Detail, secret) || recs[0].Detail != "HTTP 400: no such token phx_0123456789abcdef… here" {
		t.Fatalf("test.refused records: %+v, %v", recs, err)
	}
}

// TestExpiringFollowsTheVaultPolicy: GET /api/v1/vault/expiring shows
// what the caller may list and no more. A user with secrets.list whom the
// vault's policy lets list no secret got, from it, the name, version and
// expiry of every secret about to expire.
func TestExpiringFollowsTheVaultPolicy(t *testing.T) {
	f := newFixture(t)
	if _, err := f.auth.CreateUser(bg, "lister", "", []auth.Grant{{Role: "secret-lister"}}); err != nil {
		t.Fatal(err)
	}
	f.tokens["lister"] = f.mint("lister", auth.TokenRequest{})
	status, out, _ := f.call("lister", "GET", "/api/v1/secrets", nil)
	if status != 200 || !strings.Contains(string(out), `"items": []`) {
		t.Fatalf("lister's listing = %d %s, want 200 and nothing", status, out)
	}
	status, out, _ = f.call("lister", "GET", "/api/v1/vault/expiring?within=3650d", nil)
	if status != 200 || strings.TrimSpace(string(out)) != "[]" {
		t.Fatalf("lister's expiring = %d %s, want 200 and nothing", status, out)
	}
	status, out, _ = f.call("admin", "GET", "/api/v1/vault/expiring?within=3650d", nil)
	if status != 200 || !strings.Contains(string(out), "MATRIX_KEY") {
		t.Fatalf("admin's expiring = %d %s, want MATRIX_KEY", status, out)
	}
}

// TestPastedSecretNamesStayOutOfTheAuditLog: a token pasted where a
// secret's name belongs, in the path of a change the vault refuses, is
// recorded by its fingerprint, as the vault records a read of it: not in
// the API's record of the refused change (its target and the message it
// repeats: "HTTP 404: secret ghp_… does not exist"), not in the vault's
// own records, and not in the server's log (at debug level, every
// request's path).
func TestPastedSecretNamesStayOutOfTheAuditLog(t *testing.T) {
	f := newFixture(t)
	const token = "ghp_PastedTokenValue0123456789abcdefABCD"
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXBhc3RlZA"
	leaks := []string{"PastedTokenValue", jwt[:20], "c2lnbmF0dXJlLXBhc3RlZA"}
	random := &vault.RotationPolicy{EveryDays: 1, Generator: vault.GeneratorSpec{Type: "random"}}
	for _, name := range []string{token, jwt} {
		one := "/api/v1/secrets/" + name
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"DELETE", one, nil},
			{"DELETE", one + "?purge=true", nil},
			{"POST", one + "/recover", nil},
			{"PATCH", one + "/versions/1", VersionRequest{Enabled: false}},
			{"PUT", one + "/tags", TagsRequest{Tags: map[string]string{"a": "b"}}},
			{"PUT", one + "/rotation", RotationRequest{Policy: random}},
			{"PUT", one + "/rotation", RotationRequest{Policy: &vault.RotationPolicy{}}},
			{"POST", one + "/rotate", nil},
			{"PUT", one, SecretRequest{Value: []byte("x"), Kind: "bogus"}},
			{"PUT", one, SecretRequest{Value: []byte("not a PEM bundle"), Kind: vault.KindCertificate}},
			{"GET", one + "/value", nil},
			{"GET", one, nil},
		} {
			status, out, _ := f.call("admin", c.method, c.path, c.body)
			if status < 400 {
				t.Fatalf("%s %s = %d %s, want a refusal", c.method, c.path, status, out)
			}
			for _, l := range leaks {
				if strings.Contains(string(out), l) {
					t.Errorf("%s %s answered with the name given: %s", c.method, c.path, out)
				}
			}
		}
	}
	recs, err := f.log.Query(bg, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	fingerprinted := 0
	for _, r := range recs {
		b, _ := json.Marshal(r)
		for _, l := range leaks {
			if strings.Contains(string(b), l) {
				t.Errorf("the audit log holds the name given: %s", b)
			}
		}
		if r.Outcome == audit.Failed && strings.HasPrefix(r.Target, "secrets/(a name of 40 characters, sha256 ") {
			fingerprinted++
		}
	}
	if fingerprinted < 8 {
		t.Errorf("%d of the API's records of the refused changes name the secret by its fingerprint, want 8", fingerprinted)
	}
	f.logShowsNone(t, "/api/v1/secrets/(a name of 40 characters, sha256 ", leaks)
}

// TestInternalErrorsLogNoPastedName: an internal error (500) is logged in
// full, and the vault's named the secret as given: a token pasted where a
// secret's name belongs reached the server log in a database error's
// message ("vault: store version 1 of ghp_…: no such table"). The vault
// names it by the fingerprint its audit records use.
//
// A pasted GitHub token is refused before the database (400, not named:
// the vault refuses names shaped like a credential), so the pasted value
// here is a valid name no shape matches, still not in the usual style.
func TestInternalErrorsLogNoPastedName(t *testing.T) {
	f := newFixture(t)
	status, out, _ := f.call("admin", "PUT", "/api/v1/secrets/ghp_PastedTokenValue0123456789abcdefABCD", SecretRequest{Value: []byte("a value long enough")})
	if status != http.StatusBadRequest || strings.Contains(string(out), "PastedTokenValue") {
		t.Fatalf("a name shaped like a GitHub token = %d %s, want a 400 that names nothing", status, out)
	}
	const token = "sess_PastedTokenValue0123456789abcdefABC"
	if _, err := f.db.ExecContext(bg, `ALTER TABLE vault_versions RENAME TO vault_versions_gone`); err != nil {
		t.Fatal(err)
	}
	status, out, _ = f.call("admin", "PUT", "/api/v1/secrets/"+token, SecretRequest{Value: []byte("a value long enough")})
	if status != http.StatusInternalServerError || strings.Contains(string(out), "PastedTokenValue") {
		t.Fatalf("a write the database refuses = %d %s, want a 500 that names nothing", status, out)
	}
	f.logShowsNone(t, "store version 1 of (a name of 40 characters, sha256 ", []string{"PastedTokenValue"})
}
