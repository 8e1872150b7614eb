package cli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeErrorsToFixAreUsageErrors: phoenix serve of a folder whose
// staticwebapp.config.json has a problem, or on an address already taken,
// exited 1 without a hint, where phoenix validate and phoenix server exit
// 2 (README: a file to fix, a bad flag) and say what to do.
func TestServeErrorsToFixAreUsageErrors(t *testing.T) {
	t.Parallel()
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "staticwebapp.config.json"), []byte(`{"routes": [{"route": "/old", "redirect": "/new", "statusCode": "301"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run("serve", bad, "--addr", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errs, "routes[0].statusCode: must be a number") || !strings.Contains(errs, "hint: fix the file; phoenix validate lists every problem") {
		t.Errorf("bad config: exit %d, stderr %q", code, errs)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	good := t.TempDir()
	if err := os.WriteFile(filepath.Join(good, "index.html"), []byte("<p>hi</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := taken.Addr().String()
	_, errs, code = run("serve", good, "--addr", addr)
	if code != 2 || !strings.Contains(errs, "error: cannot listen on "+addr+" (--addr): ") || !strings.Contains(errs, "hint: pick another address with --addr") {
		t.Errorf("address taken: exit %d, stderr %q", code, errs)
	}
}

// TestDeployOfAnEmptyFolderIsAUsageError: the build refuses a folder with
// no files (a build not run yet), but phoenix deploy made every build
// error a failure, exit code 1; a folder to fix is exit code 2 (README),
// with the build's hint kept.
func TestDeployOfAnEmptyFolderIsAUsageError(t *testing.T) {
	t.Parallel()
	data, dir, empty := t.TempDir(), t.TempDir(), t.TempDir()
	cfg := filepath.Join(dir, "phoenix.yaml")
	if err := os.WriteFile(cfg, []byte("project: {name: shop}\nenvironments:\n  staging: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := runVault(t, "", "deploy", empty, "--env", "staging", "-c", cfg, "--data", data)
	if code != 2 || !strings.Contains(errs, "no files to deploy: the folder is empty") || !strings.Contains(errs, "hint: ") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}
