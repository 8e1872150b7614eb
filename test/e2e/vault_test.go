package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVaultThroughARunningServer: a server started with the master key in
// its environment unseals (initializing a new vault); secrets are set and
// read through the API with the CLI; sealing makes reads fail until an
// unseal; and neither a value nor the master key ever reaches the server's
// log (at debug level) or a listing.
func TestVaultThroughARunningServer(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	const masterKey = "e2e-master-key-0f1e2d3c4b5a"
	const value = "e2e-secret-value-9a8b7c6d"
	s := startServerWith(t, data, []string{"PHOENIX_MASTER_KEY=" + masterKey}, "--debug")
	remote := []string{"PHOENIX_SERVER=http://" + s.api, "PHOENIX_TOKEN=" + s.token, "PHOENIX_MASTER_KEY="}

	if r := run(t, work, []string{"PHOENIX_DATA=" + data}, "vault", "status", "-o", "json"); r.code != 0 ||
		!strings.Contains(r.stdout, `"sealed": false`) {
		t.Fatalf("status of a server started with the key: %+v", r)
	}
	setCmd := runStdin(t, work, remote, value+"\n", "secret", "set", "PROD_API_TOKEN", "--production")
	if setCmd.code != 0 {
		t.Fatalf("set: %+v", setCmd)
	}
	if r := run(t, work, remote, "secret", "get", "PROD_API_TOKEN"); r.code != 0 || r.stdout != value {
		t.Fatalf("get: %+v", r)
	}
	list := run(t, work, remote, "secret", "list", "-o", "json")
	hist := run(t, work, remote, "secret", "history", "PROD_API_TOKEN")
	if list.code != 0 || !strings.Contains(list.stdout, "PROD_API_TOKEN") || hist.code != 0 {
		t.Fatalf("list: %+v\nhistory: %+v", list, hist)
	}

	if r := run(t, work, remote, "vault", "seal"); r.code != 0 {
		t.Fatalf("seal: %+v", r)
	}
	if tty, err := os.Open("/dev/tty"); err == nil {
		tty.Close() // with a terminal the command would ask for the passphrase
	} else if r := run(t, work, remote, "secret", "get", "PROD_API_TOKEN"); r.code == 0 || !strings.Contains(r.stderr, "PHOENIX_MASTER_KEY") {
		t.Fatalf("get from a sealed vault without a key: %+v", r)
	}
	keyFile := filepath.Join(work, "master.key")
	os.WriteFile(keyFile, []byte(masterKey+"\n"), 0o600)
	if r := run(t, work, remote, "vault", "unseal", "--master-key-file", keyFile); r.code != 0 {
		t.Fatalf("unseal: %+v", r)
	}
	if r := run(t, work, remote, "secret", "get", "PROD_API_TOKEN"); r.stdout != value {
		t.Fatalf("get after unseal: %+v", r)
	}

	logs := s.logs.String()
	if !strings.Contains(logs, "/api/v1/secrets/PROD_API_TOKEN/value") {
		t.Fatalf("the server log shows no secret request; the check below would prove nothing:\n%s", logs)
	}
	for _, leak := range []string{value, masterKey} {
		for name, out := range map[string]string{"server log": logs, "list": list.stdout, "history": hist.stdout} {
			if strings.Contains(out, leak) {
				t.Errorf("the %s contains a secret", name)
			}
		}
	}
}
