package sign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newKey(t *testing.T) (PublicKey, PrivateKey) {
	t.Helper()
	pub, priv, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func TestSignVerify(t *testing.T) {
	pub, priv := newKey(t)
	other, _ := newKey(t)
	msg := []byte(`{"version":1,"files":[]}` + "\n")
	sig, err := Sign(priv, msg, "project=shop release=v1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Verify(pub, msg, sig)
	if err != nil || s.TrustedComment != "project=shop release=v1" || !s.Prehashed || s.KeyID != pub.ID() {
		t.Fatalf("Verify = %+v, %v", s, err)
	}
	tampered := strings.Replace(string(sig), "release=v1", "release=v2", 1)
	tests := map[string]struct {
		pub PublicKey
		msg []byte
		sig []byte
	}{
		"changed message":         {pub, append([]byte("x"), msg...), sig},
		"changed trusted comment": {pub, msg, []byte(tampered)},
		"other key":               {other, msg, sig},
		"garbage":                 {pub, msg, []byte("not a signature")},
		"empty":                   {pub, msg, nil},
		"oversized":               {pub, msg, make([]byte, MaxSignatureSize+1)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Verify(tc.pub, tc.msg, tc.sig); err == nil {
				t.Fatal("Verify succeeded")
			}
		})
	}
	if _, err := Verify(pub, []byte("x"), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("error %v does not wrap ErrBadSignature", err)
	}
}

func TestSignRejectsMultilineComment(t *testing.T) {
	_, priv := newKey(t)
	if _, err := Sign(priv, nil, "a\nuntrusted comment: b"); err == nil {
		t.Fatal("Sign accepted a multi-line trusted comment")
	}
}

func TestPrivateKeyRedacted(t *testing.T) {
	_, priv := newKey(t)
	text, _ := priv.k.MarshalText()
	secret := strings.SplitN(string(text), "\n", 2)[1][:40]
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(f, priv); strings.Contains(out, secret) || !strings.Contains(out, "redacted") {
			t.Errorf("%s prints %q", f, out)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	pub, priv := newKey(t)
	kp, pp := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")
	if err := SavePrivateKey(kp, priv, ""); err != nil {
		t.Fatal(err)
	}
	if err := SavePublicKey(pp, pub); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(kp); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if err := SavePrivateKey(kp, priv, ""); err == nil {
		t.Fatal("SavePrivateKey overwrote an existing file")
	}
	priv2, err := LoadPrivateKey(kp, "")
	if err != nil {
		t.Fatal(err)
	}
	pub2, err := LoadPublicKey(pp)
	if err != nil || !pub2.Equal(pub) || !priv2.Public().Equal(pub) {
		t.Fatalf("loaded keys differ: %v", err)
	}
	if p3, err := ParsePublicKey([]byte(pub.String())); err != nil || !p3.Equal(pub) {
		t.Fatalf("ParsePublicKey(base64 line) = %v", err)
	}
	os.Chmod(kp, 0o644)
	if _, err := LoadPrivateKey(kp, ""); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("loose key file mode accepted: %v", err)
	}
}

func TestBadKeyFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("untrusted comment: x\nAAAA\n"), 0o600)
	if _, err := LoadPrivateKey(bad, ""); err == nil {
		t.Error("garbage private key accepted")
	}
	if _, err := LoadPublicKey(bad); err == nil {
		t.Error("garbage public key accepted")
	}
	if _, err := LoadPublicKey(dir); err == nil {
		t.Error("directory accepted as a key file")
	}
	if _, err := LoadPrivateKey(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("missing key file accepted")
	}
}

func TestEncryptedKey(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("scrypt with minisign's parameters needs 1 GiB and 10 s (90 s under -race)")
	}
	_, priv := newKey(t)
	kp := filepath.Join(t.TempDir(), "enc.key")
	if err := SavePrivateKey(kp, priv, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrivateKey(kp, ""); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("encrypted key without password: %v", err)
	}
	if _, err := LoadPrivateKey(kp, "wrong"); err == nil || strings.Contains(err.Error(), "correct horse") {
		t.Fatalf("wrong password: %v", err)
	}
	k, err := LoadPrivateKey(kp, "correct horse")
	if err != nil || !k.Public().Equal(priv.Public()) {
		t.Fatalf("decrypt: %v", err)
	}
}

func FuzzParseSignature(f *testing.F) {
	_, priv, _ := GenerateKey(nil)
	sig, _ := Sign(priv, []byte("m"), "c")
	f.Add(sig)
	f.Add([]byte("untrusted comment: x\n\ntrusted comment: y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseSignature(b)
		ParsePublicKey(b)
		ParsePrivateKey(b, "")
	})
}
