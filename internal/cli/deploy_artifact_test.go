package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestDeployArtifactRepackedByTar: an artifact file unpacked and packed
// again by tar with the blobs before manifest.json (tar's order for the
// folder) deploys: phoenix deploy FILE reads it as verify does.
func TestDeployArtifactRepackedByTar(t *testing.T) {
	tarTool, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("tar not installed")
	}
	data, dir := t.TempDir(), t.TempDir()
	site := writeOnePageSite(t, dir)
	cfg := filepath.Join(dir, "phoenix.yaml")
	if err := os.WriteFile(cfg, []byte("project: {name: shop}\nenvironments:\n  staging: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	built, unpacked, repacked := filepath.Join(dir, "a.tar"), filepath.Join(dir, "r"), filepath.Join(dir, "b.tar")
	mustRun(t, "", "artifact", "build", site, "--out", built, "--data", data)
	os.Mkdir(unpacked, 0o755)
	for _, args := range [][]string{{"-xf", built, "-C", unpacked}, {"-C", unpacked, "-cf", repacked, "blobs", "manifest.json.minisig", "manifest.json"}} {
		if out, err := exec.Command(tarTool, args...).CombinedOutput(); err != nil {
			t.Fatalf("tar %v: %v\n%s", args, err, out)
		}
	}
	out, errs, code := runVault(t, "", "deploy", repacked, "--env", "staging", "--data", data, "-c", cfg, "-o", "json")
	var res struct{ Files int }
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Files != 1 {
		t.Fatalf("deploy of the repacked file: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}
