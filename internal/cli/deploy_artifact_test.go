package cli

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	t.Parallel()
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

// TestDeployArtifactToAnotherServerTrustsItsKey: phoenix deploy FILE
// --server URL checks the file's signature against that server's signing
// key (GET /api/v1/signing-key), not the key of a data dir on the
// deploying machine (it did: a file the server signed was refused, and one
// signed with the local key would have passed); --pubkey trusts a key of
// one's own instead, and is refused for a folder.
func TestDeployArtifactToAnotherServerTrustsItsKey(t *testing.T) {
	serverData, dir, site, cfg := artifactDeployFixture(t)
	signed := filepath.Join(dir, "server-signed.tar")
	mustRun(t, "", "artifact", "build", site, "--out", signed, "--data", serverData) // the server's key file
	local, localSigned := t.TempDir(), filepath.Join(dir, "local-signed.tar")
	mustRun(t, "", "artifact", "build", site, "--out", localSigned, "--data", local) // another key, on "this machine"
	_, ownKey, ownPub := writeKeyPair(t, dir, "own")
	own := filepath.Join(dir, "own-signed.tar")
	t.Setenv("PHOENIX_KEY_PASSWORD", "")
	mustRun(t, "", "artifact", "build", site, "--out", own, "--key", ownKey, "--data", local)
	a := startServer(t, serverData)
	token, err := os.ReadFile(filepath.Join(serverData, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	remote := []string{"--env", "staging", "-c", cfg, "--data", local, "--server", a.APIURL(), "--token", strings.TrimSpace(string(token))}
	deploy := func(args ...string) (string, int) {
		_, errs, code := runVault(t, "", append(append([]string{"deploy"}, args...), remote...)...)
		return errs, code
	}
	if errs, code := deploy(signed); code != 0 {
		t.Errorf("the server's own artifact: exit %d\n%s", code, errs)
	}
	if errs, code := deploy(localSigned); code != 1 || !strings.Contains(errs, "signature does not verify") ||
		!strings.Contains(errs, "--pubkey FILE") {
		t.Errorf("one signed with this machine's data dir key: exit %d, want 1\n%s", code, errs)
	}
	if errs, code := deploy(own, "--pubkey", ownPub); code != 0 {
		t.Errorf("own key with --pubkey: exit %d\n%s", code, errs)
	}
	if errs, code := deploy(signed, "--pubkey", ownPub); code != 1 || !strings.Contains(errs, "signature does not verify") {
		t.Errorf("--pubkey is the only key trusted: exit %d\n%s", code, errs)
	}
	if errs, code := deploy(site, "--pubkey", ownPub); code != 2 || !strings.Contains(errs, "is a folder") {
		t.Errorf("--pubkey with a folder: exit %d\n%s", code, errs)
	}
}

// TestArtifactVerifyWithServerUsesItsKey: phoenix artifact verify FILE
// --server URL checks against that server's signing key, as GET
// /api/v1/signing-key publishes it (key id and minisign file), not the
// local data dir's; --pubkey still wins.
func TestArtifactVerifyWithServerUsesItsKey(t *testing.T) {
	t.Parallel()
	serverData, dir, site, _ := artifactDeployFixture(t)
	signed := filepath.Join(dir, "server-signed.tar")
	mustRun(t, "", "artifact", "build", site, "--out", signed, "--data", serverData)
	local := t.TempDir()
	mustRun(t, "", "artifact", "build", site, "--out", filepath.Join(dir, "local.tar"), "--data", local) // makes local's key
	a := startServer(t, serverData)
	token, err := os.ReadFile(filepath.Join(serverData, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	remote := []string{"--data", local, "--server", a.APIURL(), "--token", strings.TrimSpace(string(token)), "-o", "json"}
	out, errs, code := runVault(t, "", append([]string{"artifact", "verify", signed}, remote...)...)
	if code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Errorf("verify against the server's key: exit %d\n%s\n%s", code, out, errs)
	}
	pub, err := sign.LoadPublicKey(filepath.Join(serverData, "keys", "signing.pub"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", a.APIURL()+"/api/v1/signing-key", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var k struct {
		KeyID     string `json:"key_id"`
		PublicKey string `json:"public_key"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/signing-key: %s %v", resp.Status, err)
	}
	if got, err := sign.ParsePublicKey([]byte(k.PublicKey)); err != nil || !got.Equal(pub) || k.KeyID != pub.ID() {
		t.Errorf("GET /api/v1/signing-key: %+v (%v), want the server's key %s", k, err, pub.ID())
	}
	_, _, ownPub := writeKeyPair(t, dir, "own")
	if _, errs, code := runVault(t, "", append([]string{"artifact", "verify", signed, "--pubkey", ownPub}, remote...)...); code != 1 {
		t.Errorf("--pubkey wins over --server: exit %d\n%s", code, errs)
	}
}
