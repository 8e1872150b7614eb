package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAuditKeyInTheVault: a server started with the master key makes its
// audit key in the vault (no private key file, keys/audit.pub beside it);
// restarted without the key it keeps recording, and 'phoenix audit verify'
// says the checkpoints are deferred and names the unsigned tail; 'phoenix
// vault unseal' ends that, and verify passes signed through the head. No
// log shows the private key.
func TestAuditKeyInTheVault(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	const masterKey = "e2e-master-key-of-the-audit-test"
	s := startServerWith(t, data, []string{"PHOENIX_MASTER_KEY=" + masterKey})
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	if _, err := os.Stat(filepath.Join(data, "keys", "audit.key")); !os.IsNotExist(err) {
		t.Fatalf("a server with a vault wrote keys/audit.key: %v", err)
	}
	pub, err := os.ReadFile(filepath.Join(data, "keys", "audit.pub"))
	if err != nil {
		t.Fatal(err)
	}

	sealed := startServerWith(t, data, []string{"PHOENIX_MASTER_KEY="})
	remote := []string{"PHOENIX_SERVER=http://" + sealed.api, "PHOENIX_TOKEN=" + sealed.token, "PHOENIX_MASTER_KEY="}
	if r := run(t, work, remote, "token", "create", "--name", "made while sealed"); r.code != 0 {
		t.Fatalf("token create on a sealed server: %+v", r)
	}
	r := run(t, work, remote, "audit", "verify")
	for _, want := range []string{"audit log intact", "unsigned tail: records", "checkpoints deferred", strings.TrimSpace(string(pub))} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("verify on a sealed server lacks %q: %+v", want, r)
		}
	}
	keyFile := filepath.Join(work, "master.key")
	os.WriteFile(keyFile, []byte(masterKey+"\n"), 0o600)
	if r := run(t, work, remote, "vault", "unseal", "--master-key-file", keyFile); r.code != 0 {
		t.Fatalf("unseal: %+v", r)
	}
	r = run(t, work, remote, "audit", "verify")
	if r.code != 0 || !strings.Contains(r.stdout, "audit log intact") || strings.Contains(r.stdout, "deferred") || strings.Contains(r.stdout, "unsigned tail") {
		t.Fatalf("verify after unseal: %+v", r)
	}
	for name, out := range map[string]string{"first server": s.logs.String(), "sealed server": sealed.logs.String()} {
		if strings.Contains(out, "PRIVATE+KEY") || strings.Contains(out, masterKey) {
			t.Errorf("the %s's log shows a key", name)
		}
	}
}
