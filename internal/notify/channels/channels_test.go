package channels

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/notify"
)

func TestFromConfig(t *testing.T) {
	cfg, err := config.Parse([]byte(`project: {name: site}
notifications:
  channels:
    teams:
      type: teams
      format: messagecard
      url: secret:PROD_TEAMS_WEBHOOK_URL
      events: [deploy.*, alert.firing]
    hook:
      type: webhook
      url: https://audit.example.com/phoenix
      secret: secret:SIGNING
    mail:
      type: email
      to: [ops@example.com]
      smtp: {host: smtp.example.com, from: phoenix@example.com, username: u, password: secret:SMTP_PASSWORD}
`), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vault := map[string]string{"PROD_TEAMS_WEBHOOK_URL": "https://x.webhook.office.com/secret-path", "SIGNING": "k3y", "SMTP_PASSWORD": "pw"}
	got, err := FromConfig(cfg.Notifications, func(n string) (string, error) {
		if v, ok := vault[n]; ok {
			return v, nil
		}
		return "", errors.New("no such secret")
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["teams"].Notifier == nil || got["hook"].Notifier == nil || got["mail"].Notifier == nil {
		t.Fatalf("channels %v", got)
	}
	if got["teams"].MinSeverity != 4 || len(got["teams"].Events) != 2 {
		t.Errorf("teams routing %+v", got["teams"])
	}
	delete(vault, "SIGNING")
	_, err = FromConfig(cfg.Notifications, func(n string) (string, error) {
		if v, ok := vault[n]; ok {
			return v, nil
		}
		return "", errors.New("no such secret")
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "notifications.channels.hook.secret") {
		t.Fatalf("missing secret: %v", err)
	}
}

// TestDefaultEventsAgree: a channel from phoenix.yaml without events and
// one built in code without them subscribe to the same events, which
// include each release's outcome and approval requests.
func TestDefaultEventsAgree(t *testing.T) {
	if !slices.Equal(config.DefaultChannelEvents, notify.DefaultEvents) {
		t.Fatalf("config %v, notify %v", config.DefaultChannelEvents, notify.DefaultEvents)
	}
	ch := notify.Channel{}
	for _, ev := range []string{"release.succeeded", "release.failed", "approval.requested"} {
		if !ch.Wants(notify.Message{Event: ev, Severity: 3}) {
			t.Errorf("a channel with the default events does not get %s", ev)
		}
	}
}

// TestSecretNames checks that every secret reference a channel resolves
// (URL, webhook signing key, SMTP password) is named, once, and that
// literals and env: references are not.
func TestSecretNames(t *testing.T) {
	cfg, err := config.Parse([]byte(`project: {name: site}
notifications:
  channels:
    teams: {type: teams, url: secret:PROD_TEAMS_WEBHOOK_URL}
    teams2: {type: teams, url: secret:PROD_TEAMS_WEBHOOK_URL}
    slack: {type: slack, url: env:SLACK_URL}
    hook: {type: webhook, url: https://audit.example.com/phoenix, secret: secret:SIGNING}
    mail: {type: email, to: [ops@example.com], smtp: {host: smtp.example.com, from: phoenix@example.com, password: secret:SMTP_PASSWORD}}
`), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := SecretNames(cfg.Notifications)
	if want := []string{"PROD_TEAMS_WEBHOOK_URL", "SIGNING", "SMTP_PASSWORD"}; !slices.Equal(got, want) {
		t.Fatalf("SecretNames = %q, want %q", got, want)
	}
}
