// Package channels builds notify channels from the notifications section
// of phoenix.yaml, resolving secret references (webhook URLs, signing keys,
// SMTP passwords) through a lookup the caller provides (the vault).
package channels

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/notify/email"
	"github.com/phoenixvc/phoenix/internal/notify/slack"
	"github.com/phoenixvc/phoenix/internal/notify/teams"
	"github.com/phoenixvc/phoenix/internal/notify/webhook"
)

// FromConfig returns one notify.Channel per configured channel. vault
// resolves secret:NAME references; env:NAME reads the environment. Errors
// name the channel and field, never a secret's value.
func FromConfig(n config.Notifications, vault func(name string) (string, error), client *http.Client) (map[string]notify.Channel, error) {
	out := map[string]notify.Channel{}
	names := make([]string, 0, len(n.Channels))
	for name := range n.Channels {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ch := n.Channels[name]
		if ch == nil {
			continue
		}
		c, err := build(name, ch, vault, client)
		if err != nil {
			return nil, err
		}
		out[name] = c
	}
	return out, nil
}

func build(name string, ch *config.Channel, vault func(string) (string, error), client *http.Client) (notify.Channel, error) {
	resolve := func(field string, ref config.SecretRef) (string, error) {
		if ref.IsZero() {
			return "", nil
		}
		v, err := ref.Resolve(vault)
		if err != nil {
			return "", fmt.Errorf("notifications.channels.%s.%s: cannot read %s: %w", name, field, ref, err)
		}
		return v, nil
	}
	c := notify.Channel{Events: ch.Events, MinSeverity: ch.MinSeverity}
	url, err := resolve("url", ch.URL)
	if err != nil {
		return c, err
	}
	c.Secrets = append(c.Secrets, url)
	switch ch.Type {
	case "teams":
		c.Notifier, err = teams.New(teams.Options{URL: url, Format: ch.Format, Client: client})
	case "slack":
		c.Notifier, err = slack.New(slack.Options{URL: url, Client: client})
	case "webhook":
		var key string
		if key, err = resolve("secret", ch.Secret); err == nil {
			c.Secrets = append(c.Secrets, key)
			c.Notifier, err = webhook.New(webhook.Options{URL: url, Secret: key, Client: client})
		}
	case "email":
		c.Notifier, err = buildEmail(ch, resolve, &c)
	default:
		err = fmt.Errorf("type %q is not teams, slack, webhook or email", ch.Type)
	}
	if err != nil {
		return c, fmt.Errorf("notifications.channels.%s: %w", name, notify.Redact(err, c.Secrets...))
	}
	return c, nil
}

func buildEmail(ch *config.Channel, resolve func(string, config.SecretRef) (string, error), c *notify.Channel) (notify.Notifier, error) {
	if ch.SMTP == nil {
		return nil, fmt.Errorf("smtp is required for email channels")
	}
	pw, err := resolve("smtp.password", ch.SMTP.Password)
	if err != nil {
		return nil, err
	}
	c.Secrets = append(c.Secrets, pw)
	return email.New(email.Options{Host: ch.SMTP.Host, Port: ch.SMTP.Port, Security: ch.SMTP.TLS,
		Username: ch.SMTP.Username, Password: pw, From: ch.SMTP.From, To: ch.To})
}

// SecretNames returns the vault secrets (secret:NAME) that n's channels
// read, sorted, each once: when one of them changes, the channels are
// built again.
func SecretNames(n config.Notifications) []string {
	var out []string
	for _, ch := range n.Channels {
		if ch == nil {
			continue
		}
		refs := []config.SecretRef{ch.URL, ch.Secret}
		if ch.SMTP != nil {
			refs = append(refs, ch.SMTP.Password)
		}
		for _, r := range refs {
			if r.Source == "secret" {
				out = append(out, r.Name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
