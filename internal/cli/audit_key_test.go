package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditVerifySealed: with the audit key in the vault, 'phoenix audit
// verify' on a sealed server (the in-process one: it has no master key)
// passes and says plainly that checkpoints are deferred and which records
// no checkpoint covers. The key never lands in the data dir as a file.
func TestAuditVerifySealed(t *testing.T) {
	data := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	t.Setenv("PHOENIX_MASTER_KEY", "")
	mustRun(t, "", "vault", "init", "--generate-key-file", keyFile, "--data", data, "--master-key-file", keyFile)

	mustRun(t, "", "token", "create", "--name", "written while sealed", "--data", data) // an audited change
	sealed := mustRun(t, "", "audit", "verify", "--data", data)
	for _, want := range []string{"audit log intact", "unsigned tail: records", "checkpoints deferred", "verifier key phoenix-audit+"} {
		if !strings.Contains(sealed, want) {
			t.Fatalf("sealed verify lacks %q:\n%s", want, sealed)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "keys", "audit.key")); !os.IsNotExist(err) {
		t.Fatalf("keys/audit.key beside a vault: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "keys", "audit.pub")); err != nil {
		t.Fatal(err)
	}
}
