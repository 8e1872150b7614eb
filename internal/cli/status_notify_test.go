package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// TestStatusSaysWhatIsNotNotified: phoenix status says, once per project
// however many of its environments it shows, which channels did not load
// and why, and which channel's last message failed for good, one line
// each; nothing when the channels work.
func TestStatusSaysWhatIsNotNotified(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.Local)
	h := &api.NotifyHealth{Unloaded: []string{"mail", "teams"}, Error: "notifications.channels.mail.smtp.password: cannot read secret:SMTP_PASSWORD: the vault is sealed",
		Failing: []notify.Failure{{Channel: "slack", FailedAt: at, Event: "alert.firing", Failed: 3, Since: at.Add(-time.Hour),
			Error: "slack: receiver answered 404 no_service (hint: the webhook URL was deleted or is wrong; store the new one with phoenix secret set)"}}}
	env := func(name string, h *api.NotifyHealth) api.EnvReport {
		return api.EnvReport{EnvStatus: monitor.EnvStatus{Environment: name + ".shop", Health: monitor.HealthUp}, Project: "shop", Name: name, Notifications: h}
	}
	var out bytes.Buffer
	if err := printStatus(&out, []api.EnvReport{env("staging", h), env("production", h)}, at); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"  NOTIFY shop: channels not loaded (mail, teams): notifications.channels.mail.smtp.password: cannot read secret:SMTP_PASSWORD: the vault is sealed\n",
		"  NOTIFY shop/slack: alert.firing at 2026-11-27 10:00 not delivered, 3 failed since 2026-11-27 09:00: slack: receiver answered 404 no_service",
	}
	for _, w := range want {
		if strings.Count(out.String(), w) != 1 {
			t.Errorf("phoenix status does not say once %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	if err := printStatus(&out, []api.EnvReport{env("production", nil)}, at); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "NOTIFY") {
		t.Errorf("phoenix status with working channels:\n%s", out.String())
	}
}

// TestStatusSaysWhatIsNotNotifiedBeforeAnyDeploy: a project with nothing
// deployed or monitored has no environment in the status, so its channels'
// problems showed nowhere in phoenix status (while notify-undeliverable
// fired); its entry of its own (api.EnvReport.ProjectOnly) gives its
// NOTIFY lines, and no row in the table.
func TestStatusSaysWhatIsNotNotifiedBeforeAnyDeploy(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.Local)
	blog := api.EnvReport{EnvStatus: monitor.EnvStatus{Health: monitor.HealthUnknown}, Project: "blog",
		Notifications: &api.NotifyHealth{Unloaded: []string{"teams"}, Error: "notifications.channels.teams.url: cannot read secret:BLOG_TEAMS_URL: the vault is sealed"}}
	const line = "  NOTIFY blog: channels not loaded (teams): notifications.channels.teams.url: cannot read secret:BLOG_TEAMS_URL: the vault is sealed\n"
	var out bytes.Buffer
	if err := printStatus(&out, []api.EnvReport{blog}, at); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "nothing deployed or monitored yet") || !strings.Contains(out.String(), line) {
		t.Errorf("phoenix status of a project with nothing deployed:\n%s", out.String())
	}
	out.Reset()
	shop := api.EnvReport{EnvStatus: monitor.EnvStatus{Environment: "production.shop", Health: monitor.HealthUp}, Project: "shop", Name: "production"}
	if err := printStatus(&out, []api.EnvReport{shop, blog}, at); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), line) || strings.Count(out.String(), "blog") != 1 { // the NOTIFY line names it, the table does not
		t.Errorf("phoenix status beside a deployed project:\n%s", out.String())
	}
}
