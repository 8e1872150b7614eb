package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/sign"
)

// encryptedMinisignKey is a secret key written by `minisign -G` (password
// "pw"), encrypted as minisign encrypts keys by default. Only a test key.
const encryptedMinisignKey = `untrusted comment: minisign encrypted secret key
RWRTY0IyQTMuw/ipEishI8l/GX6w+eTgLVOtkjsL4lzBOuMHFooAAAACAAAAAAAAAEAAAAAAp9nwaxxvW3Hhwxf1NrUbch9bKo8MN05a19XNwymaIpwPRPCO3Q4yBjM+Fmz77EsKHgCwmMVLVE6k+7yqNXlkSUPhpGXwvAw3Zs7A4tr6P8L5EKlktAdsK9pogD3rOSl+S6HDU6TC3k0=
`

// TestArtifactKeyFileErrors: a key file that cannot sign or verify is a
// usage error naming the file and what to do: an encrypted secret key
// without PHOENIX_KEY_PASSWORD, a public key given to --key, a secret key
// given to --pubkey.
func TestArtifactKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	site := writeOnePageSite(t, dir)
	enc := filepath.Join(dir, "enc.key")
	if err := os.WriteFile(enc, []byte(encryptedMinisignKey), 0o600); err != nil {
		t.Fatal(err)
	}
	_, sec, pubFile := writeKeyPair(t, dir, "release")
	data := filepath.Join(dir, "data")
	tar := filepath.Join(dir, "a.tar")
	t.Setenv("PHOENIX_KEY_PASSWORD", "")
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(append(args, "--data", data), nil, &out, &errb)
		return code, out.String() + errb.String()
	}

	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"encrypted key, no password", []string{"artifact", "build", site, "--out", tar, "--key", enc},
			[]string{enc, "encrypted", "PHOENIX_KEY_PASSWORD"}},
		{"public key as --key", []string{"artifact", "build", site, "--out", tar, "--key", pubFile},
			[]string{pubFile, "public key", "--key"}},
		{"secret key as --pubkey", []string{"artifact", "verify", tar, "--pubkey", sec},
			[]string{sec, "secret key", ".pub", "--pubkey"}},
	} {
		if c.name == "secret key as --pubkey" {
			if code, out := run("artifact", "build", site, "--out", tar, "--key", sec); code != 0 {
				t.Fatalf("build with %s: exit %d\n%s", sec, code, out)
			}
		}
		code, out := run(c.args...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2 (usage)\n%s", c.name, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output does not say %q:\n%s", c.name, w, out)
			}
		}
		if strings.Contains(out, "chmod") || strings.Contains(out, "RWRTY") || strings.Contains(out, "RWQAA") {
			t.Errorf("%s: misleading advice or key material in the output:\n%s", c.name, out)
		}
	}
}

// TestArtifactVerifyNamesManifestAndKey: phoenix artifact verify says
// which manifest it checked and which key signed it, in JSON (-o json)
// under the names and with the values phoenix artifact build -o json
// printed, and in text as build's text says them, also when the signature
// does not verify with the key given.
func TestArtifactVerifyNamesManifestAndKey(t *testing.T) {
	dir := t.TempDir()
	site := writeOnePageSite(t, dir)
	priv, sec, pubFile := writeKeyPair(t, dir, "release")
	_, _, otherFile := writeKeyPair(t, dir, "other")
	tar := filepath.Join(dir, "a.tar")
	t.Setenv("PHOENIX_KEY_PASSWORD", "")
	run := func(wantCode int, args ...string) map[string]any {
		t.Helper()
		out := runArtifact(t, dir, wantCode, append(args, "-o", "json")...)
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return v
	}
	built := run(0, "artifact", "build", site, "--out", tar, "--key", sec)
	if built["manifest"] == nil || built["key_id"] != priv.ID() {
		t.Fatalf("build's JSON: %v", built)
	}
	for _, c := range []struct {
		pubkey string
		code   int
		ok     bool
	}{{pubFile, 0, true}, {otherFile, 1, false}} {
		got := run(c.code, "artifact", "verify", tar, "--pubkey", c.pubkey)
		if got["ok"] != c.ok {
			t.Errorf("verify --pubkey %s: ok = %v, want %v", c.pubkey, got["ok"], c.ok)
		}
		for _, k := range []string{"manifest", "key_id"} {
			if got[k] != built[k] {
				t.Errorf("verify --pubkey %s: %s = %v, build said %v", c.pubkey, k, got[k], built[k])
			}
		}
	}
	// The same in text, as build says it.
	text := func(wantCode int, args ...string) string { t.Helper(); return runArtifact(t, dir, wantCode, args...) }
	builtText := text(0, "artifact", "build", site, "--out", tar, "--key", sec)
	_, named, ok := strings.Cut(builtText, ", manifest ")
	if !ok || !strings.HasSuffix(named, ", signed by key "+priv.ID()+"\n") {
		t.Fatalf("build's text: %q", builtText)
	}
	named = "manifest " + strings.TrimSuffix(named, "\n") // "manifest sha256:…, signed by key …"
	if got, want := text(0, "artifact", "verify", tar, "--pubkey", pubFile), tar+": signature and all 1 files verified, "+named+"\n"; got != want {
		t.Errorf("verify:\n got %q\nwant %q", got, want)
	}
	got := text(1, "artifact", "verify", tar, "--pubkey", otherFile)
	if !strings.HasPrefix(got, "problem: ") || !strings.HasSuffix(got, "\n"+tar+": "+named+"\n") {
		t.Errorf("verify with another key: %q, want the problem then %q", got, named)
	}
}

// runArtifact runs phoenix with args and the data dir dir/data, fails t
// unless it exits with wantCode, and returns its standard output.
func runArtifact(t *testing.T, dir string, wantCode int, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append(args, "--data", filepath.Join(dir, "data")), nil, &out, &errb)
	if code != wantCode {
		t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, code, wantCode, out.String(), errb.String())
	}
	return out.String()
}

// writeKeyPair writes a new key pair as dir/NAME.key (unencrypted) and
// dir/NAME.pub and returns the private key and the two files.
func writeKeyPair(t *testing.T, dir, name string) (priv sign.PrivateKey, sec, pub string) {
	t.Helper()
	_, priv, err := sign.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sec, pub = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := sign.SavePrivateKey(sec, priv, ""); err != nil {
		t.Fatal(err)
	}
	if err := sign.SavePublicKey(pub, priv.Public()); err != nil {
		t.Fatal(err)
	}
	return priv, sec, pub
}
