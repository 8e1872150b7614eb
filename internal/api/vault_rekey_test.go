package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestVaultRekey: POST /vault/rekey changes the master key for those with
// vault.manage (a wrong old key, or a caller without it, changes nothing),
// the secrets read back, only the new key unseals, and neither key is in
// an answer, the audit log or the server log.
func TestVaultRekey(t *testing.T) {
	const newKey, wrongKey = "the new fixture master key 9876543210", "not-the-master-key-4711"
	var answers []string
	f := newFixture(t)
	call := func(who, method, path string, body any) (int, string) {
		t.Helper()
		status, out, _ := f.call(who, method, path, body)
		answers = append(answers, string(out))
		return status, string(out)
	}
	if status, out := call("admin", "PUT", "/api/v1/secrets/REKEYED", SecretRequest{Value: []byte("kept-value")}); status != http.StatusCreated {
		t.Fatalf("set = %d %s", status, out)
	}
	req := VaultRekeyRequest{OldMasterKey: testMasterKey, NewMasterKey: newKey}
	for _, who := range []string{"viewer", "contributor", "auditor"} {
		if status, out := call(who, "POST", "/api/v1/vault/rekey", req); status != http.StatusForbidden || !strings.Contains(out, "vault.manage") {
			t.Fatalf("rekey as %s = %d %s, want 403 naming vault.manage", who, status, out)
		}
	}
	for _, tc := range []struct {
		body any
		want string
	}{
		{VaultRekeyRequest{OldMasterKey: wrongKey, NewMasterKey: newKey}, "wrong master key"},
		{VaultRekeyRequest{OldMasterKey: testMasterKey}, "new_master_key"},
		{VaultRekeyRequest{OldMasterKey: testMasterKey, NewMasterKey: "short"}, "too short"},
		{VaultKeyRequest{MasterKey: testMasterKey}, "unknown field"},
	} {
		if status, out := call("admin", "POST", "/api/v1/vault/rekey", tc.body); status != http.StatusBadRequest || !strings.Contains(out, tc.want) {
			t.Fatalf("rekey with %T = %d %s, want 400 saying %q", tc.body, status, out, tc.want)
		}
	}
	if status, out := call("admin", "POST", "/api/v1/vault/check", VaultKeyRequest{MasterKey: testMasterKey}); status != 200 {
		t.Fatalf("the key after refused rekeys = %d %s, want still valid", status, out)
	}

	if status, out := call("admin", "POST", "/api/v1/vault/rekey", req); status != 200 || !strings.Contains(out, `"sealed": false`) {
		t.Fatalf("rekey = %d %s", status, out)
	}
	if status, out := call("admin", "GET", "/api/v1/secrets/REKEYED/value", nil); status != 200 || !strings.Contains(out, "a2VwdC12YWx1ZQ==") {
		t.Fatalf("read after the rekey = %d %s", status, out)
	}
	call("admin", "POST", "/api/v1/vault/seal", nil)
	if status, out := call("admin", "POST", "/api/v1/vault/unseal", VaultKeyRequest{MasterKey: testMasterKey}); status != http.StatusBadRequest {
		t.Fatalf("unseal with the old key = %d %s, want 400", status, out)
	}
	if status, out := call("admin", "POST", "/api/v1/vault/unseal", VaultKeyRequest{MasterKey: newKey}); status != 200 {
		t.Fatalf("unseal with the new key = %d %s", status, out)
	}
	if status, out := call("admin", "GET", "/api/v1/secrets/REKEYED/value", nil); status != 200 || !strings.Contains(out, "a2VwdC12YWx1ZQ==") {
		t.Fatalf("read after unsealing with the new key = %d %s", status, out)
	}
	status, out := call("admin", "GET", "/api/v1/audit?limit=1000&action=vault.rekey", nil)
	if status != 200 || !strings.Contains(out, `"outcome": "ok"`) || !strings.Contains(out, `"outcome": "failed"`) || !strings.Contains(out, `"actor": "admin"`) {
		t.Fatalf("vault.rekey in the audit log = %d %s", status, out)
	}
	_, export := call("admin", "GET", "/api/v1/audit/export", nil)
	if !strings.Contains(export, "vault.rekey") {
		t.Fatal("the audit export shows no rekey; the check would prove nothing")
	}
	logs := f.logs.String()
	leaks := []string{testMasterKey, newKey, wrongKey}
	if !strings.Contains(logs, "/api/v1/vault/rekey") || !strings.Contains(logs, "master key changed") {
		t.Fatal("the server log shows no rekey; the check would prove nothing")
	}
	for _, l := range leaks {
		for _, a := range answers {
			if strings.Contains(a, l) {
				t.Fatalf("an answer contains a key:\n%s", a)
			}
		}
		if strings.Contains(logs, l) {
			t.Fatal("the server log contains a key")
		}
	}
}
