package artifact

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"bytes"
	"fmt"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"time"
)

func signedBuild(t *testing.T) (*Manifest, []byte, sign.PublicKey, *local.Store) {
	t.Helper()
	store := newLocal(t)
	m, err := Build(context.Background(), sampleSite(t), store, BuildOptions{Meta: Meta{Project: "shop", Release: "v 1/2"}})
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := sign.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(m, priv)
	if err != nil {
		t.Fatal(err)
	}
	return m, sig, pub, store
}

func overwriteBlob(t *testing.T, s *local.Store, d backend.Digest, data []byte) {
	t.Helper()
	p, err := s.Path(d)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	m, sig, pub, store := signedBuild(t)
	if probs, err := Verify(context.Background(), m, sig, &pub, store); err != nil || len(probs) != 0 {
		t.Fatalf("Verify of a good release = %v, %v", probs, err)
	}
	if !strings.Contains(string(sig), "project=shop release=v+1%2F2 manifest=sha256:") {
		t.Errorf("trusted comment: %s", sig)
	}
	other, _, _ := sign.GenerateKey(nil)
	js, _ := m.Lookup("assets/app.js")
	br, _ := js.Variant(EncodingBrotli)
	tests := map[string]struct {
		change func(t *testing.T, m *Manifest, s *local.Store) ([]byte, *sign.PublicKey)
		want   string
	}{
		"no key": {func(*testing.T, *Manifest, *local.Store) ([]byte, *sign.PublicKey) { return sig, nil }, "not signed"},
		"no signature": {func(*testing.T, *Manifest, *local.Store) ([]byte, *sign.PublicKey) {
			return nil, &pub
		}, "not signed"},
		"other key": {func(*testing.T, *Manifest, *local.Store) ([]byte, *sign.PublicKey) { return sig, &other }, "does not verify"},
		"manifest changed": {func(_ *testing.T, m *Manifest, _ *local.Store) ([]byte, *sign.PublicKey) {
			m.Files[0].Private = !m.Files[0].Private
			return sig, &pub
		}, "does not verify"},
		"blob missing": {func(t *testing.T, _ *Manifest, s *local.Store) ([]byte, *sign.PublicKey) {
			s.Delete(context.Background(), js.Digest)
			return sig, &pub
		}, "assets/app.js (" + string(js.Digest) + "): stat"},
		"blob damaged": {func(t *testing.T, _ *Manifest, s *local.Store) ([]byte, *sign.PublicKey) {
			b := getBlob(t, s, js.Digest)
			b[0] ^= 1
			overwriteBlob(t, s, js.Digest, b)
			return sig, &pub
		}, "damaged"},
		"variant truncated": {func(t *testing.T, _ *Manifest, s *local.Store) ([]byte, *sign.PublicKey) {
			overwriteBlob(t, s, br.Digest, []byte("x"))
			return sig, &pub
		}, "br variant"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, _, _, store := signedBuildCopy(t, m, store)
			s, p := tc.change(t, m, store)
			probs, err := Verify(context.Background(), m, s, p, store)
			if err != nil || len(probs) == 0 || !strings.Contains(probs[0].String(), tc.want) {
				t.Fatalf("Verify = %v, %v; want a problem mentioning %q", probs, err, tc.want)
			}
		})
	}
}

// signedBuildCopy gives each subtest its own manifest and store copy.
func signedBuildCopy(t *testing.T, m *Manifest, src *local.Store) (*Manifest, []byte, sign.PublicKey, *local.Store) {
	t.Helper()
	dst := newLocal(t)
	for _, b := range m.Blobs() {
		data := getBlob(t, src, b.Digest)
		if err := dst.Put(context.Background(), b.Digest, strings.NewReader(string(data)), b.Size); err != nil {
			t.Fatal(err)
		}
	}
	c := *m
	c.Files = append([]File(nil), m.Files...)
	return &c, nil, sign.PublicKey{}, dst
}

func TestVerifySkipContent(t *testing.T) {
	m, sig, pub, store := signedBuild(t)
	js, _ := m.Lookup("assets/app.js")
	b := getBlob(t, store, js.Digest)
	b[0] ^= 1
	overwriteBlob(t, store, js.Digest, b)
	probs, err := VerifyWith(context.Background(), m, sig, &pub, store, VerifyOptions{SkipContent: true})
	if err != nil || len(probs) != 0 {
		t.Fatalf("SkipContent found %v, %v; it only checks presence and size", probs, err)
	}
}

func TestVerifyCancelled(t *testing.T) {
	m, sig, pub, store := signedBuild(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, m, sig, &pub, store); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify = %v, want context.Canceled", err)
	}
}

func TestCheckComment(t *testing.T) {
	m := sampleManifest()
	d, _ := m.Digest()
	tests := map[string]struct {
		tc string
		ok bool
	}{
		"ours":           {"phoenix-artifact project=shop release=v1.2.3 manifest=" + string(d) + " timestamp=1", true},
		"minisign tool":  {"timestamp:1 file:manifest.json", true},
		"wrong digest":   {"phoenix-artifact project=shop release=v1.2.3 manifest=sha256:00 timestamp=1", false},
		"wrong project":  {"phoenix-artifact project=other release=v1.2.3 manifest=" + string(d), false},
		"missing digest": {"phoenix-artifact project=shop release=v1.2.3", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := checkComment(tc.tc, m, d); (err == nil) != tc.ok {
				t.Fatalf("checkComment = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestSignIsReproducible: the trusted comment's timestamp is the
// manifest's creation time, so signing the same manifest later gives the
// same bytes (a reproducible build's tar holds the signature).
func TestSignIsReproducible(t *testing.T) {
	m, _, _, _ := signedBuild(t)
	m.Meta.Created = time.Date(2025, 11, 26, 12, 0, 0, 0, time.UTC)
	_, priv, err := sign.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	a, errA := Sign(m, priv)
	b, errB := Sign(m, priv)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("two signatures of one manifest differ: %v %v\n%s\n%s", errA, errB, a, b)
	}
	if !strings.Contains(string(a), fmt.Sprintf("timestamp=%d", m.Meta.Created.Unix())) {
		t.Errorf("the timestamp is not the manifest's creation time:\n%s", a)
	}
}
