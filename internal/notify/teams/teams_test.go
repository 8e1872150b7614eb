package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

func sample() notify.Message {
	return notify.Message{
		ID: "m1", Event: "deploy.rolled_back", Severity: notify.Critical,
		Title:   "Verification failed: production rolled back to v1.0.0",
		Text:    "Health check **production-health** failed: [STATUS] == 200 (got 503).",
		Project: "site", Environment: "production",
		Facts: []notify.Fact{{Name: "Failed release", Value: "v1.1.0"}, {Name: "Now serving", Value: "v1.0.0"}},
		Links: []notify.Link{{Title: "Open site", URL: "https://www.phoenixvc.co.za/"}, {Title: "Status", URL: "https://status.example.com/"}},
		Time:  time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
	}
}

// schemaValidator compiles the npm-shipped Adaptive Card schema and returns
// a function validating an instance against one of its definitions ("" for
// the whole card).
func schemaValidator(t *testing.T) func(def string, v any) error {
	t.Helper()
	const loc = "file:///adaptive-card.schema.json"
	c := testkit.SchemaCompiler(t, "testdata/adaptive-card.schema.json", loc)
	cache := map[string]*jsonschema.Schema{}
	return func(def string, v any) error {
		ref := loc
		if def != "" {
			ref += "#/definitions/" + def
		}
		s, ok := cache[ref]
		if !ok {
			var err error
			if s, err = c.Compile(ref); err != nil {
				return fmt.Errorf("no schema for %q: %w", def, err)
			}
			cache[ref] = s
		}
		return s.Validate(v)
	}
}

// validateCard checks the whole card, then every body element and action
// against the definition its type names.
func validateCard(validate func(string, any) error, card any) error {
	if err := validate("", card); err != nil {
		return err
	}
	m := card.(map[string]any)
	if m["version"] != "1.4" {
		return fmt.Errorf("version %v, want 1.4", m["version"])
	}
	for _, key := range []string{"body", "actions"} {
		items, _ := m[key].([]any)
		for i, it := range items {
			typ, _ := it.(map[string]any)["type"].(string)
			if err := validate(typ, it); err != nil {
				return fmt.Errorf("%s[%d] (%s): %w", key, i, typ, err)
			}
		}
	}
	return nil
}

func TestAdaptiveCardMatchesSchema(t *testing.T) {
	validate := schemaValidator(t)
	long := strings.Repeat("é", 5000)
	cases := map[string]notify.Message{
		"rolled back": sample(),
		"resolved":    {Event: "alert.resolved", Severity: 0, Title: "HighErrorRate resolved"},
		"resolved, acknowledged": {Event: "alert.resolved", Severity: 0, Title: "[production.shop] HighErrorRate resolved",
			Facts: []notify.Fact{{Name: "HighErrorRate", Value: "error rate 0.1%"}, {Name: "Acknowledged", Value: "alice at 2026-11-26T08:00:00Z: rolling back"}}},
		"acknowledged": {Event: "alert.acknowledged", Severity: 1, Title: "[production.shop] HighErrorRate acknowledged by alice",
			Text: "rolling back the CDN change", Facts: []notify.Fact{{Name: "Acknowledged", Value: "alice at 2026-11-26T08:00:00Z"}}},
		"no facts":  {Event: "alert.firing", Severity: 2, Title: "cpu", Text: "cpu at 91%"},
		"long text": {Event: "alert.firing", Severity: 9, Title: long, Text: long, Facts: []notify.Fact{{Name: long, Value: long}}},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			body, err := Payload(Workflows, m)
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Type        string `json:"type"`
				Attachments []struct {
					ContentType string `json:"contentType"`
					Content     any    `json:"content"`
				} `json:"attachments"`
			}
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatal(err)
			}
			if env.Type != "message" || len(env.Attachments) != 1 || env.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
				t.Fatalf("envelope: %s", body)
			}
			if err := validateCard(validate, env.Attachments[0].Content); err != nil {
				t.Fatalf("card does not match the Adaptive Card schema: %v\n%s", err, body)
			}
			if len(body) > 28000 {
				t.Errorf("payload is %d bytes, over Teams' 28 KB", len(body))
			}
		})
	}
}

func TestSchemaRejectsBrokenCards(t *testing.T) {
	validate := schemaValidator(t)
	cases := map[string]map[string]any{
		"bad color":      {"type": "AdaptiveCard", "version": "1.4", "body": []any{map[string]any{"type": "TextBlock", "text": "x", "color": "red"}}},
		"no version":     {"type": "AdaptiveCard", "body": []any{}},
		"fact no value":  {"type": "AdaptiveCard", "version": "1.4", "body": []any{map[string]any{"type": "FactSet", "facts": []any{map[string]any{"title": "a"}}}}},
		"unknown action": {"type": "AdaptiveCard", "version": "1.4", "actions": []any{map[string]any{"type": "Action.Nope"}}},
		"url missing":    {"type": "AdaptiveCard", "version": "1.4", "actions": []any{map[string]any{"type": "Action.OpenUrl", "title": "x"}}},
		"late bad elem":  {"type": "AdaptiveCard", "version": "1.4", "body": []any{map[string]any{"type": "TextBlock", "text": "ok"}, map[string]any{"type": "TextBlock", "text": "x", "weight": "heavy"}}},
	}
	for name, card := range cases {
		t.Run(name, func(t *testing.T) {
			var v any
			b, _ := json.Marshal(card)
			_ = json.Unmarshal(b, &v)
			if err := validateCard(validate, v); err == nil {
				t.Fatal("a broken card passed validation")
			}
		})
	}
}

func TestMessageCard(t *testing.T) {
	body, err := Payload(MessageCard, sample())
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Type       string `json:"@type"`
		Context    string `json:"@context"`
		ThemeColor string `json:"themeColor"`
		Summary    string `json:"summary"`
		Sections   []struct {
			Facts []struct{ Name, Value string } `json:"facts"`
		} `json:"sections"`
		Actions []struct {
			Type    string                     `json:"@type"`
			Name    string                     `json:"name"`
			Targets []struct{ OS, URI string } `json:"targets"`
		} `json:"potentialAction"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if c.Type != "MessageCard" || c.Context != "https://schema.org/extensions" || c.ThemeColor != "D13438" || c.Summary == "" {
		t.Fatalf("header: %s", body)
	}
	if len(c.Sections) != 1 || len(c.Sections[0].Facts) != 2 || c.Sections[0].Facts[1].Value != "v1.0.0" {
		t.Fatalf("facts: %s", body)
	}
	if len(c.Actions) != 2 || c.Actions[0].Type != "OpenUri" || c.Actions[0].Targets[0].URI != "https://www.phoenixvc.co.za/" {
		t.Fatalf("actions: %s", body)
	}
	resolved, _ := Payload(MessageCard, notify.Message{Event: "alert.resolved", Title: "ok"})
	if !strings.Contains(string(resolved), `"themeColor":"2EB886"`) {
		t.Errorf("resolved card is not green: %s", resolved)
	}
}

func TestNotify(t *testing.T) {
	const secretPath = "/workflows/8d5f1c2e9a7b4b1f/triggers/manual/paths/invoke?sig=S3cr3tSig"
	cases := []struct {
		name      string
		status    int
		format    string
		wantErr   bool
		wantRetry bool
	}{
		{"workflows accepted", http.StatusAccepted, Workflows, false, false},
		{"messagecard ok", http.StatusOK, MessageCard, false, false},
		{"throttled", http.StatusTooManyRequests, Workflows, true, true},
		{"server error", http.StatusBadGateway, Workflows, true, true},
		{"bad request", http.StatusBadRequest, Workflows, true, false},
		{"deleted hook", http.StatusNotFound, Workflows, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("content type %q", r.Header.Get("Content-Type"))
				}
				got, _ = io.ReadAll(r.Body)
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, "echo %s", r.URL.String()) // a receiver that echoes the secret path
			}))
			defer srv.Close()
			url := srv.URL + secretPath
			n, err := New(Options{URL: url, Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			err = n.Notify(context.Background(), sample())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if notify.Retryable(err) != tc.wantRetry {
					t.Errorf("retryable = %v, want %v (%v)", notify.Retryable(err), tc.wantRetry, err)
				}
				assertNoSecret(t, err.Error(), url)
			}
			if !json.Valid(got) {
				t.Errorf("receiver got invalid JSON: %s", got)
			}
		})
	}
}

func TestUnreachableReceiverErrorHasNoURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/webhookb2/abc@tenant/IncomingWebhook/deadbeef/0123?token=T0ken"
	srv.Close()
	n, _ := New(Options{URL: url})
	err := n.Notify(context.Background(), sample())
	if err == nil || !notify.Retryable(err) {
		t.Fatalf("want a retryable error, got %v", err)
	}
	assertNoSecret(t, err.Error(), url)
	if _, err := New(Options{URL: url, Format: "html"}); err == nil || strings.Contains(err.Error(), "T0ken") {
		t.Errorf("bad format: %v", err)
	}
}

func assertNoSecret(t *testing.T, s, url string) {
	t.Helper()
	for _, part := range []string{url, "S3cr3tSig", "8d5f1c2e9a7b4b1f", "T0ken", "deadbeef", "IncomingWebhook"} {
		if strings.Contains(s, part) {
			t.Errorf("error reveals %q: %s", part, s)
		}
	}
}

// TestAcknowledgedCard: an acknowledgement is neither an alarm nor an
// all-clear: its card says ACKNOWLEDGED in the accent colour.
func TestAcknowledgedCard(t *testing.T) {
	m := notify.Message{Event: "alert.acknowledged", Severity: 0, Title: "[production.shop] HighErrorRate acknowledged by alice"}
	card := AdaptiveCard(m)
	body := card["body"].([]any)
	title, sub := body[0].(map[string]any), body[1].(map[string]any)
	if title["color"] != "accent" || !strings.HasPrefix(sub["text"].(string), "ACKNOWLEDGED · alert.acknowledged") {
		t.Fatalf("card: %v / %v", title, sub)
	}
	if got := messageCard(m)["themeColor"]; got != "0078D4" {
		t.Fatalf("message card colour %v", got)
	}
}

// TestInformationalIsNotResolved: a successful deploy is news (severity 3),
// not the end of an alert: only alert.resolved says RESOLVED in green.
func TestInformationalIsNotResolved(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		m          notify.Message
		sub, color string
		theme      string
	}{
		{"deploy succeeded", notify.Message{Event: "deploy.succeeded", Severity: notify.Informational, Title: "production: v1.4.1 is live",
			Project: "shop", Environment: "production", Time: at},
			"INFO · deploy.succeeded · shop/production · 2026-11-25 10:00:00 UTC", "accent", "0078D4"},
		{"backup succeeded", notify.Message{Event: "backup.succeeded", Severity: notify.Informational, Title: "backup done"},
			"INFO · backup.succeeded", "accent", "0078D4"},
		{"alert resolved", notify.Message{Event: "alert.resolved", Severity: notify.Critical, Title: "[production] critical-availability resolved",
			Environment: "production", Time: at},
			"RESOLVED · alert.resolved · production · 2026-11-25 10:00:00 UTC", "good", "2EB886"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := AdaptiveCard(tc.m)["body"].([]any)
			title, sub := body[0].(map[string]any), body[1].(map[string]any)
			if sub["text"] != tc.sub || title["color"] != tc.color {
				t.Errorf("adaptive card: subtitle %q colour %v, want %q %v", sub["text"], title["color"], tc.sub, tc.color)
			}
			mc := messageCard(tc.m)
			section := mc["sections"].([]any)[0].(map[string]any)
			if mc["themeColor"] != tc.theme || section["activitySubtitle"] != tc.sub {
				t.Errorf("message card: colour %v subtitle %q, want %v %q", mc["themeColor"], section["activitySubtitle"], tc.theme, tc.sub)
			}
		})
	}
}

// TestManyDomainsKeepTheDashboardButton: Teams shows 6 actions of an
// Adaptive Card (4 of a connector card) and drops the rest, so a deploy to
// 7 domains lost its dashboard button; the domains fold into the card's
// text when they do not fit, every one of them, and the dashboard stays a
// button. The card still matches the schema.
func TestManyDomainsKeepTheDashboardButton(t *testing.T) {
	validate := schemaValidator(t)
	m := notify.Message{Event: "deploy.succeeded", Severity: notify.Informational, Title: "shop/production: v1.4.1 is live",
		Project: "shop", Environment: "production"}
	for i := range 7 {
		d := fmt.Sprintf("site%d.example.com", i)
		m.Links = append(m.Links, notify.Link{Title: d, URL: "https://" + d + "/"})
	}
	dashboard := notify.Link{Title: "shop/production in Phoenix", URL: "https://phoenix.example.com/ui/envs/shop/production"}
	m.Links = append(m.Links, dashboard)

	card := AdaptiveCard(m)
	b, _ := json.Marshal(card)
	var v any
	_ = json.Unmarshal(b, &v)
	if err := validateCard(validate, v); err != nil {
		t.Fatalf("card does not match the Adaptive Card schema: %v\n%s", err, b)
	}
	actions, _ := card["actions"].([]any)
	if len(actions) != 1 || actions[0].(map[string]any)["url"] != dashboard.URL {
		t.Fatalf("actions %v, want the dashboard's button only", actions)
	}
	for _, l := range m.Links[:7] {
		if !strings.Contains(string(b), "["+l.Title+"]("+l.URL+")") {
			t.Errorf("domain %s is missing from the card: %s", l.Title, b)
		}
	}

	mc, _ := json.Marshal(messageCard(m))
	var c struct {
		Sections []struct{ Text string } `json:"sections"`
		Actions  []struct {
			Targets []struct{ URI string } `json:"targets"`
		} `json:"potentialAction"`
	}
	if err := json.Unmarshal(mc, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Actions) != 1 || c.Actions[0].Targets[0].URI != dashboard.URL {
		t.Fatalf("connector card buttons: %s", mc)
	}
	for _, l := range m.Links[:7] {
		if !strings.Contains(c.Sections[0].Text, "["+l.Title+"]("+l.URL+")") {
			t.Errorf("connector card lost domain %s: %s", l.Title, mc)
		}
	}

	few := notify.Message{Title: "t", Links: m.Links[5:]} // 3 links: all buttons, as before
	if got := AdaptiveCard(few)["actions"].([]any); len(got) != 3 {
		t.Errorf("3 links gave %d buttons", len(got))
	}
}

// TestTestMessageCardMatchesSchema: phoenix notify test's message, as a
// Workflows receiver gets it over HTTP, is an Adaptive Card the schema
// accepts.
func TestTestMessageCardMatchesSchema(t *testing.T) {
	validate := schemaValidator(t)
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	n, err := New(Options{URL: srv.URL + "/workflows/x"})
	if err != nil {
		t.Fatal(err)
	}
	m := notify.TestMessage("shop", "teams", "alice")
	m.Time = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var env struct {
		Attachments []struct{ Content any } `json:"attachments"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Attachments) != 1 {
		t.Fatalf("payload %s: %v", body, err)
	}
	if err := validateCard(validate, env.Attachments[0].Content); err != nil {
		t.Fatalf("test card does not match the Adaptive Card schema: %v\n%s", err, body)
	}
	if !strings.Contains(string(body), "INFO · notify.test · shop") {
		t.Errorf("test card: %s", body)
	}
}
