package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/notify"
)

func TestPayload(t *testing.T) {
	m := notify.Message{Event: "alert.firing", Severity: 1, Title: "HighLatency <prod>", Text: "p95 & avg > 1000ms",
		Environment: "production", Facts: []notify.Fact{{Name: "Value", Value: "1250 ms"}},
		Links: []notify.Link{{Title: "Status", URL: "https://status.example.com"}}}
	b, err := Payload(m)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Text        string `json:"text"`
		Attachments []struct {
			Color  string           `json:"color"`
			Blocks []map[string]any `json:"blocks"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Text, "ERROR: HighLatency") || p.Attachments[0].Color != "#E97548" {
		t.Fatalf("payload: %s", b)
	}
	var types []string
	for _, bl := range p.Attachments[0].Blocks {
		types = append(types, bl["type"].(string))
	}
	if got := strings.Join(types, ","); got != "header,context,section,section,actions" {
		t.Errorf("blocks %s", got)
	}
	if !strings.Contains(string(b), "p95 &amp; avg &gt; 1000ms") {
		t.Errorf("mrkdwn not escaped: %s", b)
	}
}

func TestNotify(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		wantErr   bool
		wantRetry bool
	}{
		{"ok", 200, false, false},
		{"rate limited", 429, true, true},
		{"archived channel", 410, true, false},
		{"down", 503, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if !json.Valid(b) {
					t.Errorf("invalid JSON %s", b)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, "no_service "+r.URL.Path)
			}))
			defer srv.Close()
			url := srv.URL + "/services/T000/B000/XXXXsecretXXXX"
			n, _ := New(Options{URL: url})
			err := n.Notify(context.Background(), notify.Message{Title: "t", Event: "alert.firing"})
			if (err != nil) != tc.wantErr || (err != nil && notify.Retryable(err) != tc.wantRetry) {
				t.Fatalf("err = %v", err)
			}
			if err != nil && strings.Contains(err.Error(), "XXXXsecretXXXX") {
				t.Errorf("error reveals the URL: %v", err)
			}
		})
	}
}
