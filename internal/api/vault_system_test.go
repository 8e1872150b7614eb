package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestSystemKeysAreNotExported: the server's own keys in the vault
// (vault.SystemKeys) are listed, marked system, with their metadata and
// history, but an admin token can neither read their values nor set,
// import, delete, purge, recover, disable, tag or give them a rotation
// policy through the API: 403 naming the key, and no response carries a
// value. The data keys rotate (the server makes the new key); the signing
// keys do not. An ordinary secret still works.
func TestSystemKeysAreNotExported(t *testing.T) {
	f := newFixture(t)
	server := vault.Subject{Actor: "phoenix:test", Roles: []string{"admin"}, System: true}
	var leaks []string
	for _, name := range vault.SystemKeys() {
		val := "the-server-key-" + strings.ToLower(name)
		leaks = append(leaks, val, base64.StdEncoding.EncodeToString([]byte(val)))
		if _, err := f.vault.Set(bg, server, name, vault.SecretString(val), vault.SetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, what string, status int, out []byte, want int) {
		t.Helper()
		if status != want {
			t.Fatalf("%s = %d, want %d: %s", what, status, want, out)
		}
		for _, l := range leaks {
			if strings.Contains(string(out), l) {
				t.Fatalf("%s answered with a value:\n%s", what, out)
			}
		}
	}
	for _, name := range vault.SystemKeys() {
		t.Run(name, func(t *testing.T) {
			one := "/api/v1/secrets/" + name
			refused := []struct {
				method, path string
				body         any
			}{
				{"GET", one + "/value", nil},
				{"GET", one + "/value?version=1", nil},
				{"PUT", one, SecretRequest{Value: []byte("planted"), Kind: vault.KindSigningKey}},
				{"PUT", one, SecretRequest{Value: []byte("planted")}},
				{"POST", "/api/v1/vault/import", ImportRequest{Overwrite: true, Entries: []ImportEntry{{Name: name, Line: 1, Value: []byte("planted")}}}},
				{"DELETE", one, nil},
				{"DELETE", one + "?purge=true", nil},
				{"POST", one + "/recover", nil},
				{"PATCH", one + "/versions/1", VersionRequest{Enabled: false}},
				{"PUT", one + "/tags", TagsRequest{Tags: map[string]string{"x": "y"}}},
				{"PUT", one + "/rotation", RotationRequest{Policy: &vault.RotationPolicy{EveryDays: 1, Generator: vault.GeneratorSpec{Type: "random"}}}},
			}
			for _, c := range refused {
				status, out, _ := f.call("admin", c.method, c.path, c.body)
				check(t, c.method+" "+c.path, status, out, http.StatusForbidden)
				if !strings.Contains(string(out), name+" is one of the server's own keys") {
					t.Fatalf("%s %s does not say why: %s", c.method, c.path, out)
				}
			}
			status, out, _ := f.call("admin", "GET", one, nil)
			check(t, "GET "+one, status, out, http.StatusOK)
			var in vault.Info
			if json.Unmarshal(out, &in) != nil || !in.System || in.Version != 1 {
				t.Fatalf("metadata: %s", out)
			}
			status, out, _ = f.call("admin", "GET", one+"/versions", nil)
			check(t, "GET "+one+"/versions", status, out, http.StatusOK)

			status, out, _ = f.call("admin", "POST", one+"/rotate", nil)
			if name == vault.SigningKeyName || name == vault.AuditKeyName {
				check(t, "rotate", status, out, http.StatusForbidden)
				return
			}
			check(t, "rotate", status, out, http.StatusCreated)
			s, _, err := f.vault.Get(bg, server, name, 0)
			if key, derr := base64.StdEncoding.DecodeString(s.Reveal()); err != nil || derr != nil || len(key) != 32 {
				t.Fatalf("rotated %s: not a new 32-byte key (%v %v)", name, err, derr)
			}
			leaks = append(leaks, s.Reveal())
		})
	}

	status, out, _ := f.call("admin", "GET", "/api/v1/secrets", nil)
	check(t, "list", status, out, http.StatusOK)
	var page Page[vault.Info]
	if err := json.Unmarshal(out, &page); err != nil {
		t.Fatal(err)
	}
	var system int
	for _, in := range page.Items {
		if in.System {
			system++
		}
	}
	if system != len(vault.SystemKeys()) {
		t.Fatalf("%d secrets marked system, want %d: %s", system, len(vault.SystemKeys()), out)
	}
	for _, path := range []string{"/api/v1/audit?limit=1000", "/api/v1/audit/export", "/api/v1/vault/expiring?within=3650d"} {
		status, out, _ := f.call("admin", "GET", path, nil)
		check(t, path, status, out, http.StatusOK)
	}
	if logs := f.logs.String(); strings.Contains(logs, "the-server-key-") {
		t.Fatal("the server log holds a system key's value")
	}

	// An ordinary secret is unaffected.
	if status, out, _ := f.call("admin", "PUT", "/api/v1/secrets/PLAIN", SecretRequest{Value: []byte("plain")}); status != http.StatusCreated {
		t.Fatalf("set PLAIN = %d %s", status, out)
	}
	var v SecretValue
	if status, out, _ := f.call("admin", "GET", "/api/v1/secrets/PLAIN/value", nil); status != 200 || json.Unmarshal(out, &v) != nil || string(v.Value) != "plain" {
		t.Fatalf("read PLAIN = %d %s", status, out)
	}
	if status, out, _ := f.call("admin", "DELETE", "/api/v1/secrets/PLAIN", nil); status != 200 {
		t.Fatalf("delete PLAIN = %d %s", status, out)
	}
}
