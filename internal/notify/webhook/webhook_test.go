package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/notify"
)

func TestSignedDelivery(t *testing.T) {
	const secret = "whsec_0123456789abcdef"
	var gotBody []byte
	var gotHeader http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		gotHeader = r.Header.Clone()
		if !Verify(secret, gotBody, r.Header.Get(SignatureHeader)) {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	n, _ := New(Options{URL: srv.URL + "/hook", Secret: secret})
	m := notify.Message{ID: "d-1", Event: "deploy.succeeded", Title: "v1.1.0 is live", Time: time.Unix(1700000000, 0).UTC()}
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var b Body
	if err := json.Unmarshal(gotBody, &b); err != nil || b.Version != 1 || b.Title != m.Title || !b.Time.Equal(m.Time) {
		t.Fatalf("body %s (%v)", gotBody, err)
	}
	if gotHeader.Get(EventHeader) != "deploy.succeeded" || gotHeader.Get(DeliveryHeader) != "d-1" {
		t.Errorf("headers %v", gotHeader)
	}
	if strings.Contains(string(gotBody), secret) {
		t.Error("body contains the signing secret")
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"a":1}`)
	sig := Sign("k", body)
	cases := []struct {
		name   string
		secret string
		body   []byte
		sig    string
		want   bool
	}{
		{"good", "k", body, sig, true},
		{"wrong key", "k2", body, sig, false},
		{"tampered body", "k", []byte(`{"a":2}`), sig, false},
		{"empty header", "k", body, "", false},
		{"no prefix", "k", body, strings.TrimPrefix(sig, "sha256="), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Verify(tc.secret, tc.body, tc.sig); got != tc.want {
				t.Errorf("Verify = %v", got)
			}
		})
	}
}

func TestRejectedSignatureIsPermanentAndSecretFree(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "bad signature "+r.Header.Get(SignatureHeader)+" key=whsec_leak")
	}))
	defer srv.Close()
	n, _ := New(Options{URL: srv.URL + "/hook?token=abcd1234", Secret: "whsec_leak"})
	err := n.Notify(context.Background(), notify.Message{Title: "x"})
	if err == nil || notify.Retryable(err) {
		t.Fatalf("want permanent error, got %v", err)
	}
	for _, s := range []string{"whsec_leak", "abcd1234"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error reveals %q: %v", s, err)
		}
	}
}
