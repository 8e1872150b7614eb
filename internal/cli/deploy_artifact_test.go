package cli

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestDeployArtifactRepackedByTar: an artifact file unpacked and packed
// again by tar with the blobs before manifest.json (tar's order for the
// folder) deploys: phoenix deploy FILE reads it as verify does.
func TestDeployArtifactRepackedByTar(t *testing.T) {
	tarTool := testkit.RequireTool(t, "tar", "tar")
	data, dir, site, cfg := artifactDeployFixture(t)
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

// artifactDeployFixture returns a data dir, a folder holding a one-page
// site and a phoenix.yaml of project shop with environment staging.
func artifactDeployFixture(t *testing.T) (data, dir, site, cfg string) {
	t.Helper()
	data, dir = t.TempDir(), t.TempDir()
	site = writeOnePageSite(t, dir)
	cfg = filepath.Join(dir, "phoenix.yaml")
	if err := os.WriteFile(cfg, []byte("project: {name: shop}\nenvironments:\n  staging: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return data, dir, site, cfg
}

// TestDeployArtifactChecksSignatureFirst: phoenix deploy FILE of an
// artifact signed with another key, or unsigned, is refused as before and
// leaves no blob in the store: the signature is checked before a blob is
// stored. One signed with the data dir's key deploys.
func TestDeployArtifactChecksSignatureFirst(t *testing.T) {
	data, dir, site, cfg := artifactDeployFixture(t)
	good, foreign, unsigned := filepath.Join(dir, "good.tar"), filepath.Join(dir, "foreign.tar"), filepath.Join(dir, "unsigned.tar")
	mustRun(t, "", "artifact", "build", site, "--out", good, "--data", data)
	other, otherKey, _ := writeKeyPair(t, dir, "other")
	pub, err := sign.LoadPublicKey(filepath.Join(data, "keys", "signing.pub"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PHOENIX_KEY_PASSWORD", "")
	mustRun(t, "", "artifact", "build", site, "--out", foreign, "--key", otherKey, "--data", data)
	withoutSignature(t, good, unsigned)
	blobs := func() int {
		t.Helper()
		s, err := local.New(filepath.Join(data, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := s.List(t.Context(), func(backend.Digest) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for file, want := range map[string]string{
		foreign: fmt.Sprintf("%s: signature does not verify: manifest signature: %v: signed by key %s, verifying with key %s",
			foreign, sign.ErrBadSignature, other.ID(), pub.ID()),
		unsigned: unsigned + ": signature does not verify: " + artifact.ErrUnsigned.Error(),
	} {
		_, errs, code := runVault(t, "", "deploy", file, "--env", "staging", "--data", data, "-c", cfg)
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("deploy %s: exit %d, want 1 saying %q\n%s", filepath.Base(file), code, want, errs)
		}
		if n := blobs(); n != 0 {
			t.Errorf("deploy %s left %d blobs in the store", filepath.Base(file), n)
		}
	}
	if out, errs, code := runVault(t, "", "deploy", good, "--env", "staging", "--data", data, "-c", cfg); code != 0 || blobs() == 0 {
		t.Fatalf("deploy of the good file: exit %d, %d blobs\n%s\n%s", code, blobs(), out, errs)
	}
}

// withoutSignature copies the artifact file src to dst without its
// signature.
func withoutSignature(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var buf bytes.Buffer
	tr, tw := tar.NewReader(in), tar.NewWriter(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == artifact.SignatureName {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
