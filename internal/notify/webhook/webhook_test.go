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

// TestInformationalBody: the receiver tells a success from an alert's
// resolution by the event and severity the body carries unchanged.
func TestInformationalBody(t *testing.T) {
	var got []Body
	var events []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b Body
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("body: %v", err)
		}
		got, events = append(got, b), append(events, r.Header.Get(EventHeader))
	}))
	defer srv.Close()
	n, _ := New(Options{URL: srv.URL + "/hook"})
	msgs := []notify.Message{
		{ID: "d-2", Event: "deploy.succeeded", Severity: notify.Informational, Title: "production: v1.4.1 is live", Environment: "production"},
		{ID: "a-2", Event: "alert.resolved", Severity: notify.Critical, Title: "[production] critical-availability resolved", Environment: "production"},
	}
	for _, m := range msgs {
		if err := n.Notify(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 {
		t.Fatalf("receiver got %d bodies", len(got))
	}
	for i, m := range msgs {
		if got[i].Event != m.Event || events[i] != m.Event || got[i].Severity != m.Severity || got[i].Environment != "production" {
			t.Errorf("body %d: %+v (event header %q), want event %s severity %d", i, got[i], events[i], m.Event, m.Severity)
		}
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
