// Package email sends messages over SMTP with STARTTLS (or implicit TLS),
// as a plain-text part with an HTML alternative, using go-mail.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"net"
	"regexp"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/phoenixvc/phoenix/internal/notify"
)

// Transport security modes.
const (
	StartTLS = "starttls" // plain connect, then STARTTLS, required (default)
	TLS      = "tls"      // implicit TLS from the first byte (port 465)
	None     = "none"     // no encryption: only for a relay on localhost
)

// Options configure a Notifier.
type Options struct {
	Host      string
	Port      int    // default 587 (465 for TLS)
	Security  string // StartTLS (default), TLS or None
	Username  string // empty: no AUTH
	Password  string // a secret
	From      string
	To        []string
	TLSConfig *tls.Config   // default: verify the server's certificate for Host
	Timeout   time.Duration // default 30s
}

// Notifier sends mail through one server.
type Notifier struct{ opts Options }

// New checks o and returns a Notifier.
func New(o Options) (*Notifier, error) {
	switch {
	case o.Host == "":
		return nil, errors.New("email: smtp.host is empty")
	case o.From == "":
		return nil, errors.New("email: smtp.from is empty")
	case len(o.To) == 0:
		return nil, errors.New("email: no recipients (set to: [ops@example.com])")
	}
	if o.Security == "" {
		o.Security = StartTLS
	}
	if o.Security != StartTLS && o.Security != TLS && o.Security != None {
		return nil, fmt.Errorf("email: tls %q is not starttls, tls or none", o.Security)
	}
	if o.Port == 0 {
		o.Port = 587
		if o.Security == TLS {
			o.Port = 465
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return &Notifier{opts: o}, nil
}

func (n *Notifier) client() (*mail.Client, error) {
	o := n.opts
	tc := o.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: o.Host, MinVersion: tls.VersionTLS12}
	}
	opts := []mail.Option{mail.WithPort(o.Port), mail.WithTimeout(o.Timeout), mail.WithTLSConfig(tc), mail.WithHELO("phoenix")}
	switch o.Security {
	case TLS:
		opts = append(opts, mail.WithSSL())
	case None:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if o.Username != "" {
		auth := mail.SMTPAuthPlain
		if o.Security == None {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(o.Username), mail.WithPassword(o.Password))
	}
	return mail.NewClient(o.Host, opts...)
}

// Notify sends m to every recipient.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) error {
	msg, err := n.message(m)
	if err != nil {
		return notify.Permanent(err)
	}
	c, err := n.client()
	if err != nil {
		return notify.Permanent(notify.Redact(fmt.Errorf("email: %w", err), n.opts.Password))
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return notify.Redact(classify(err), n.opts.Password)
	}
	return nil
}

// authRefused finds the SMTP reply code 535 (authentication failed), not
// the digits inside a port or an address ("dial tcp 127.0.0.1:45535").
var authRefused = regexp.MustCompile(`(^|[^0-9:.])535[ -]`)

// classify marks SMTP 4xx and network failures retryable; 5xx answers,
// failed logins and TLS mismatches are permanent.
func classify(err error) error {
	wrapped := fmt.Errorf("email: %w", err)
	text := err.Error()
	switch {
	case strings.Contains(text, "AUTH failed") || authRefused.MatchString(text):
		return notify.Permanent(fmt.Errorf("%w (hint: check smtp.username and the password secret)", wrapped))
	case strings.Contains(text, "x509:") || strings.Contains(text, "tls:") || strings.Contains(text, "STARTTLS"):
		return notify.Permanent(fmt.Errorf("%w (hint: the server's TLS setup does not match smtp.tls)", wrapped))
	}
	var se *mail.SendError
	if errors.As(err, &se) && !se.IsTemp() {
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
			return notify.Temporary(wrapped)
		}
		return notify.Permanent(wrapped)
	}
	return notify.Temporary(wrapped)
}

func (n *Notifier) message(m notify.Message) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(n.opts.From); err != nil {
		return nil, fmt.Errorf("email: from %q: %w", n.opts.From, err)
	}
	if err := msg.To(n.opts.To...); err != nil {
		return nil, fmt.Errorf("email: recipients: %w", err)
	}
	tag := m.Label()
	msg.Subject("[" + tag + "] " + m.Title)
	if m.ID != "" {
		msg.SetMessageIDWithValue(strings.NewReplacer("<", "", ">", "", " ", "").Replace(m.ID) + "@phoenix")
	} else {
		msg.SetMessageID()
	}
	if m.Time.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.Time)
	}
	msg.SetBodyString(mail.TypeTextPlain, plain(tag, m))
	var html strings.Builder
	if err := htmlTmpl.Execute(&html, struct {
		Tag string
		notify.Message
	}{tag, m}); err != nil {
		return nil, err
	}
	msg.AddAlternativeString(mail.TypeTextHTML, html.String())
	return msg, nil
}

func plain(tag string, m notify.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", tag, m.Title)
	if m.Project != "" {
		fmt.Fprintf(&b, "Project: %s\n", m.Project)
	}
	if m.Environment != "" {
		fmt.Fprintf(&b, "Environment: %s\n", m.Environment)
	}
	if m.Event != "" {
		fmt.Fprintf(&b, "Event: %s\n", m.Event)
	}
	if m.Text != "" {
		fmt.Fprintf(&b, "\n%s\n", m.Text)
	}
	if len(m.Facts) > 0 {
		b.WriteString("\n")
		for _, f := range m.Facts {
			fmt.Fprintf(&b, "%s: %s\n", f.Name, f.Value)
		}
	}
	if len(m.Links) > 0 {
		b.WriteString("\n")
		for _, l := range m.Links {
			fmt.Fprintf(&b, "%s: %s\n", l.Title, l.URL)
		}
	}
	return b.String()
}

var htmlTmpl = template.Must(template.New("mail").Parse(`<!doctype html>
<html><body style="font-family:sans-serif">
<h2>{{.Tag}}: {{.Title}}</h2>
{{if or .Project .Environment}}<p>{{with .Project}}Project: <b>{{.}}</b> {{end}}{{with .Environment}}Environment: <b>{{.}}</b>{{end}}</p>{{end}}
{{if .Text}}<p>{{.Text}}</p>{{end}}
{{if .Facts}}<table cellpadding="4">{{range .Facts}}<tr><th align="left">{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
{{range .Links}}<p><a href="{{.URL}}">{{.Title}}</a></p>{{end}}
</body></html>
`))
