package config

import (
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Events are the event names channels and workflows subscribe to.
var Events = []string{
	"release.started", "release.succeeded", "release.failed",
	"deploy.started", "deploy.succeeded", "deploy.failed", "deploy.rolled_back",
	"approval.requested", "check.failed",
	"alert.firing", "alert.resolved", "alert.acknowledged",
	"backup.succeeded", "backup.failed",
	"secret.rotated", "secret.rotation_failed",
}

// DefaultChannelEvents is a channel's subscription when it names none:
// what a team watching its releases wants to hear about (the outcome of
// each release and what waits for their approval, deployments the server
// verifies, alerts), not every step.
var DefaultChannelEvents = []string{"release.succeeded", "release.failed", "approval.requested", "deploy.succeeded", "deploy.failed", "deploy.rolled_back", "alert.firing", "alert.resolved", "alert.acknowledged"}

// Notifications lists where messages go.
type Notifications struct {
	Channels map[string]*Channel `yaml:"channels" keys:"name" doc:"Channels by name, referenced from alerts and workflow steps."`
}

// Channel is one destination for messages.
type Channel struct {
	Type        string    `yaml:"type" required:"true" enum:"teams,slack,webhook,email" doc:"Kind of channel."`
	URL         SecretRef `yaml:"url" doc:"Webhook URL as a secret reference, e.g. secret:PROD_TEAMS_WEBHOOK_URL (teams, slack, webhook)."`
	Format      string    `yaml:"format" enum:"workflows,messagecard" doc:"Teams payload: workflows (Adaptive Card via a Workflows webhook, default) or messagecard (legacy connector)."`
	Secret      SecretRef `yaml:"secret" doc:"HMAC-SHA256 signing key for generic webhooks, e.g. secret:WEBHOOK_SIGNING_KEY."`
	Events      []string  `yaml:"events" doc:"Events delivered to this channel; default release.succeeded, release.failed, approval.requested, deploy.succeeded, deploy.failed, deploy.rolled_back, alert.firing, alert.resolved, alert.acknowledged."`
	MinSeverity int       `yaml:"min_severity" min:"0" max:"4" doc:"Deliver alerts of this severity or more urgent (0 is most urgent; default 4: all)."`
	To          []string  `yaml:"to" doc:"Recipients (email)."`
	SMTP        *SMTP     `yaml:"smtp" doc:"Mail server (email)."`
}

func (c *Channel) setDefaults() {
	c.MinSeverity = 4
	c.Events = slices.Clone(DefaultChannelEvents)
}

// SMTP is a mail server.
type SMTP struct {
	Host     string    `yaml:"host" required:"true" doc:"Server host name."`
	Port     int       `yaml:"port" min:"1" max:"65535" doc:"Port (default 587)."`
	Username string    `yaml:"username" doc:"Login name."`
	Password SecretRef `yaml:"password" doc:"Password as a secret reference, e.g. secret:SMTP_PASSWORD."`
	From     string    `yaml:"from" required:"true" doc:"Sender address."`
	TLS      string    `yaml:"tls" enum:"starttls,tls,none" doc:"Transport security (default starttls)."`
}

func (s *SMTP) setDefaults() { s.Port, s.TLS = 587, "starttls" }

// refusedAsIs says what a secret written in the file costs, beside the
// warning: the server keeps no secret, so phoenix deploy (which hands it
// phoenix.yaml) refuses the file until the value is in the vault.
const refusedAsIs = "phoenix deploy refuses the file as it is"

// secretURLRx recognises webhook URLs whose path or query is itself a secret.
var secretURLRx = regexp.MustCompile(`(?i)(webhook\.office\.com|\.logic\.azure\.com|environment\.api\.powerplatform\.com|hooks\.slack\.com/(services|workflows|triggers)|discord(app)?\.com/api/webhooks|[?&](sig|token|key|code|secret)=)`)

func (n *Notifications) validate(v *validator) {
	for _, name := range sortedKeys(n.Channels) {
		if ch := n.Channels[name]; ch != nil {
			ch.validate(v, joinPath("notifications.channels", name))
		}
	}
}

func (c *Channel) validate(v *validator, p string) {
	switch c.Type {
	case "":
		v.errorf(p+".type", "use teams, slack, webhook or email", "is required")
	case "email":
		c.validateEmail(v, p)
	default:
		validateHookURL(v, p+".url", c.URL, c.Type)
	}
	if c.Format != "" && c.Type != "teams" {
		v.errorf(p+".format", "remove it, or set type: teams", "format applies only to teams channels")
	}
	if !c.Secret.IsZero() && c.Type != "webhook" {
		v.errorf(p+".secret", "remove it, or set type: webhook", "a signing secret applies only to webhook channels")
	}
	if c.Secret.Source == "" && c.Secret.Literal() != "" {
		v.warnf(p+".secret", "store it in the vault and write secret:NAME ("+refusedAsIs+")", "signing key is written in the file")
	}
	for i, e := range c.Events {
		if !validEventPattern(e) {
			v.enum(indexPath(p+".events", i), e, Events)
		}
	}
}

// validEventPattern accepts an event name or a "prefix.*" wildcard.
func validEventPattern(e string) bool {
	if prefix, ok := strings.CutSuffix(e, ".*"); ok {
		return slices.ContainsFunc(Events, func(x string) bool { return strings.HasPrefix(x, prefix+".") })
	}
	return e == "*" || slices.Contains(Events, e)
}

func validateHookURL(v *validator, p string, ref SecretRef, typ string) {
	if ref.IsZero() {
		v.errorf(p, "write url: secret:NAME and store the webhook URL with phoenix secret set NAME", "a %s channel needs a url", typ)
		return
	}
	if ref.Source != "" {
		return
	}
	u, err := url.Parse(ref.Literal())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.errorf(p, "write an absolute https URL, or better a secret reference such as secret:PROD_TEAMS_WEBHOOK_URL", "is not a valid URL")
		return
	}
	if secretURLRx.MatchString(ref.Literal()) {
		v.warnf(p, "anyone with this URL can post to the channel: store it with phoenix secret set NAME and write url: secret:NAME ("+refusedAsIs+")",
			"this webhook URL looks like a secret and is written in the file")
	}
}

func (c *Channel) validateEmail(v *validator, p string) {
	if len(c.To) == 0 {
		v.errorf(p+".to", "list at least one recipient", "an email channel needs recipients")
	}
	for i, a := range c.To {
		if _, err := mail.ParseAddress(a); err != nil {
			v.errorf(indexPath(p+".to", i), "write an address such as ops@example.com", "%q is not an email address", clip(a))
		}
	}
	if c.SMTP == nil {
		v.errorf(p+".smtp", "set smtp.host and smtp.from", "an email channel needs a mail server")
		return
	}
	if c.SMTP.Host == "" {
		v.errorf(p+".smtp.host", "", "is required")
	}
	if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
		v.errorf(p+".smtp.from", "write an address such as phoenix@example.com", "%q is not an email address", clip(c.SMTP.From))
	}
	if c.SMTP.Password.Source == "" && c.SMTP.Password.Literal() != "" {
		v.warnf(p+".smtp.password", "store it with phoenix secret set SMTP_PASSWORD and write password: secret:SMTP_PASSWORD ("+refusedAsIs+")", "password is written in the file")
	}
	if !c.URL.IsZero() {
		v.errorf(p+".url", "remove it; email channels use smtp", "url does not apply to email channels")
	}
}
