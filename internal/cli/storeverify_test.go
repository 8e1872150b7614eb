package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/app"
)

// TestStoreVerifyNamesDamagedBlob: a byte flipped in the file of the page
// a deployment serves (bit rot) goes unnoticed by a deploy, so phoenix
// store verify reads it back, names the blob with the deployment using it
// and how to repair it, and exits non-zero; an intact store passes, and
// the repair it names (move the file aside, deploy again) works.
func TestStoreVerifyNamesDamagedBlob(t *testing.T) {
	t.Parallel()
	data, site := t.TempDir(), t.TempDir()
	cfg := filepath.Join(t.TempDir(), "phoenix.yaml")
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<title>hi</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("project: {name: shop}\nenvironments:\n  staging: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "deploy", site, "--env", "staging", "-c", cfg, "--data", data)
	if out := mustRun(t, "", "store", "verify", "--data", data); !strings.Contains(out, ": all intact") {
		t.Fatalf("store verify of an intact store said %q", out)
	}
	sum := sha256.Sum256([]byte("<title>hi</title>"))
	h := hex.EncodeToString(sum[:])
	blob := filepath.Join(data, "blobs", "sha256", h[:2], h)
	flipByte(t, blob, 3)

	out, errs, code := run("store", "verify", "--data", data)
	if code == 0 {
		t.Fatalf("store verify of a damaged blob exited 0: %s", out)
	}
	for _, want := range []string{"sha256:" + h + " damaged", "used by shop/staging deployment 1 (active)", "repair: move " + blob} {
		if !strings.Contains(out, want) {
			t.Errorf("store verify says %q, want %q in it", out, want)
		}
	}
	if !strings.Contains(errs, "1 blob(s) damaged or missing") {
		t.Errorf("stderr = %q", errs)
	}
	jout, _, code := run("store", "verify", "-o", "json", "--data", data)
	var rep app.StoreReport
	if err := json.Unmarshal([]byte(jout), &rep); err != nil || code == 0 {
		t.Fatalf("store verify -o json: exit %d, %v: %s", code, err, jout)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Problem != "damaged" || len(rep.Problems[0].Deployments) != 1 ||
		!rep.Problems[0].Deployments[0].Active {
		t.Fatalf("store verify -o json = %+v", rep)
	}

	if err := os.Rename(blob, filepath.Join(t.TempDir(), "damaged")); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "deploy", site, "--env", "staging", "-c", cfg, "--data", data)
	if out := mustRun(t, "", "store", "verify", "--data", data); !strings.Contains(out, ": all intact") {
		t.Fatalf("store verify after the repair said %q", out)
	}
}

// flipByte changes one bit of the byte at off in path, as a failing disk
// might.
func flipByte(t *testing.T, path string, off int) {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x20
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
