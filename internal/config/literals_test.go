package config

import (
	"slices"
	"testing"
)

// TestLiteralSecrets: a signing key, an SMTP password and a webhook URL
// that is a credential, written in the file, are named; references and a
// plain webhook URL are not.
func TestLiteralSecrets(t *testing.T) {
	c, err := Parse([]byte(`project: {name: shop}
notifications:
  channels:
    hook: {type: webhook, url: "https://example.com/hook?token=abc", secret: s3cret}
    plain: {type: webhook, url: "https://example.com/hook", secret: "secret:HOOK_KEY"}
    teams: {type: teams, url: "secret:TEAMS_URL"}
    mail: {type: email, to: [ops@example.com], smtp: {host: mail, from: p@example.com, password: hunter2}}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"notifications.channels.hook.url", "notifications.channels.hook.secret", "notifications.channels.mail.smtp.password"}
	if got := c.LiteralSecrets(); !slices.Equal(got, want) {
		t.Fatalf("LiteralSecrets = %v, want %v", got, want)
	}
}
