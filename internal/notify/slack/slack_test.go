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

// TestInformationalIsNotResolved: a successful deploy is news (severity 3),
// not the end of an alert: only alert.resolved says RESOLVED in green.
func TestInformationalIsNotResolved(t *testing.T) {
	cases := []struct {
		name              string
		m                 notify.Message
		text, ctx, colour string
	}{
		{"deploy succeeded", notify.Message{Event: "deploy.succeeded", Severity: notify.Informational, Title: "production: v1.4.1 is live",
			Project: "shop", Environment: "production"},
			"INFO: production: v1.4.1 is live", "INFO · deploy.succeeded · shop/production", "#0078D4"},
		{"alert resolved", notify.Message{Event: "alert.resolved", Severity: notify.Critical, Title: "[production] critical-availability resolved",
			Environment: "production"},
			"RESOLVED: [production] critical-availability resolved", "RESOLVED · alert.resolved · production", "#2EB886"},
		{"acknowledged", notify.Message{Event: "alert.acknowledged", Severity: notify.Critical, Title: "HighErrorRate acknowledged by alice"},
			"ACKNOWLEDGED: HighErrorRate acknowledged by alice", "ACKNOWLEDGED · alert.acknowledged", "#0078D4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Payload(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				Text        string `json:"text"`
				Attachments []struct {
					Color  string `json:"color"`
					Blocks []struct {
						Elements []struct {
							Text string `json:"text"`
						} `json:"elements"`
					} `json:"blocks"`
				} `json:"attachments"`
			}
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			a := p.Attachments[0]
			if p.Text != tc.text || a.Color != tc.colour || a.Blocks[1].Elements[0].Text != tc.ctx {
				t.Errorf("text %q colour %s context %q\nwant %q %s %q", p.Text, a.Color, a.Blocks[1].Elements[0].Text, tc.text, tc.colour, tc.ctx)
			}
		})
	}
}

// TestManyDomainsKeepTheDashboardButton: Slack's message showed the first
// 5 links as buttons and dropped the rest, so a deploy to 5 domains lost
// its dashboard button; the sites fold into a section, every one of them
// a link, and the dashboard stays a button.
func TestManyDomainsKeepTheDashboardButton(t *testing.T) {
	m := notify.Message{Event: "deploy.succeeded", Severity: notify.Informational, Title: "shop/production: v1.4.1 is live"}
	for _, d := range []string{"a.example.com", "b.example.com", "c.example.com", "d.example.com", "e.example.com"} {
		m.Links = append(m.Links, notify.Link{Title: d, URL: "https://" + d + "/"})
	}
	m.Links = append(m.Links, notify.Link{Title: "shop/production in Phoenix", URL: "https://phoenix.example.com/ui/envs/shop/production"})
	b, err := Payload(m)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Attachments []struct {
			Blocks []struct {
				Type     string `json:"type"`
				Text     struct{ Text string }
				Elements []struct{ URL string }
			} `json:"blocks"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	var buttons []string
	var text string
	for _, bl := range p.Attachments[0].Blocks {
		if bl.Type == "actions" {
			for _, e := range bl.Elements {
				buttons = append(buttons, e.URL)
			}
		}
		text += bl.Text.Text
	}
	if len(buttons) != 1 || buttons[0] != "https://phoenix.example.com/ui/envs/shop/production" {
		t.Fatalf("buttons %q, want the dashboard's: %s", buttons, b)
	}
	for _, l := range m.Links[:5] {
		if !strings.Contains(text, "<"+l.URL+"|"+l.Title+">") {
			t.Errorf("domain %s is missing: %s", l.Title, b)
		}
	}
}
