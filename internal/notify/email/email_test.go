package email

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/notify"
)

func msg() notify.Message {
	return notify.Message{ID: "alert-42", Event: "alert.firing", Severity: 0, Title: "HighErrorRate on production",
		Text: "failed requests 12 > 5 over 5m <script>", Project: "shop", Environment: "production",
		Facts: []notify.Fact{{Name: "Value", Value: "12"}}, Links: []notify.Link{{Title: "Status", URL: "https://status.example.com"}},
		Time: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
}

func options(s *smtpd) Options {
	return Options{Host: "localhost", Port: s.port(), Username: "phoenix", Password: "Pa55-w0rd-secret",
		From: "phoenix@example.com", To: []string{"ops@example.com", "oncall@example.com"},
		TLSConfig: &tls.Config{ServerName: "localhost", RootCAs: s.roots}, Timeout: 5 * time.Second}
}

func TestSendOverStartTLS(t *testing.T) {
	s := newSMTPD(t)
	s.user, s.pass = "phoenix", "Pa55-w0rd-secret"
	n, err := New(options(s))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	got := s.received()
	if len(got) != 1 {
		t.Fatalf("server got %d mails", len(got))
	}
	m := got[0]
	if !m.tls || m.user != "phoenix" || len(m.to) != 2 {
		t.Fatalf("mail %+v", m)
	}
	for _, want := range []string{"Subject: [CRITICAL] HighErrorRate on production", "Message-ID: <alert-42@phoenix>",
		"text/plain", "text/html", "&lt;script&gt;", "Project: shop\nEnvironment: production", "Project: <b>shop</b>"} {
		if !strings.Contains(m.data, want) {
			t.Errorf("mail lacks %q:\n%s", want, m.data)
		}
	}
	for _, cmd := range s.plainCmd {
		if strings.HasPrefix(strings.ToUpper(cmd), "AUTH") || strings.HasPrefix(strings.ToUpper(cmd), "MAIL") {
			t.Errorf("%q was sent before STARTTLS", cmd)
		}
	}
}

// TestInformationalIsNotResolved: a successful deploy is news (severity 3),
// not the end of an alert: only alert.resolved is tagged RESOLVED.
func TestInformationalIsNotResolved(t *testing.T) {
	s := newSMTPD(t)
	s.user, s.pass = "phoenix", "Pa55-w0rd-secret"
	n, err := New(options(s))
	if err != nil {
		t.Fatal(err)
	}
	live := notify.Message{ID: "d-7", Event: "deploy.succeeded", Severity: notify.Informational, Title: "production: v1.4.1 is live"}
	over := notify.Message{ID: "a-7", Event: "alert.resolved", Severity: notify.Critical, Title: "[production] critical-availability resolved"}
	for _, m := range []notify.Message{live, over} {
		if err := n.Notify(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	got := s.received()
	if len(got) != 2 {
		t.Fatalf("server got %d mails", len(got))
	}
	for i, want := range []string{"Subject: [INFO] production: v1.4.1 is live", "Subject: [RESOLVED] [production] critical-availability resolved"} {
		if !strings.Contains(got[i].data, want) {
			t.Errorf("mail %d lacks %q:\n%s", i, want, got[i].data)
		}
	}
}

func TestFailures(t *testing.T) {
	cases := []struct {
		name      string
		setup     func(s *smtpd, o *Options)
		wantRetry bool
	}{
		{"mailbox busy 451", func(s *smtpd, o *Options) { s.rcptCode = "451 4.3.0 try later" }, true},
		{"no such user 550", func(s *smtpd, o *Options) { s.rcptCode = "550 5.1.1 no such user" }, false},
		{"wrong password", func(s *smtpd, o *Options) { s.pass = "other" }, false},
		{"untrusted certificate", func(s *smtpd, o *Options) { o.TLSConfig = &tls.Config{ServerName: "localhost"} }, false},
		{"server down", func(s *smtpd, o *Options) { s.ln.Close() }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSMTPD(t)
			s.user, s.pass = "phoenix", "Pa55-w0rd-secret"
			o := options(s)
			tc.setup(s, &o)
			n, _ := New(o)
			err := n.Notify(context.Background(), msg())
			if err == nil {
				t.Fatal("no error")
			}
			if notify.Retryable(err) != tc.wantRetry {
				t.Errorf("retryable = %v, want %v: %v", notify.Retryable(err), tc.wantRetry, err)
			}
			if strings.Contains(err.Error(), "Pa55-w0rd-secret") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestNewChecksOptions(t *testing.T) {
	cases := map[string]Options{
		"no host":    {From: "a@b.c", To: []string{"x@y.z"}},
		"no from":    {Host: "h", To: []string{"x@y.z"}},
		"no to":      {Host: "h", From: "a@b.c"},
		"bad policy": {Host: "h", From: "a@b.c", To: []string{"x@y.z"}, Security: "ssl3"},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := New(o); err == nil {
				t.Error("accepted")
			}
		})
	}
	n, err := New(Options{Host: "h", From: "a@b.c", To: []string{"x@y.z"}, Security: TLS})
	if err != nil || n.opts.Port != 465 {
		t.Errorf("implicit TLS port %d, %v", n.opts.Port, err)
	}
}

// TestClassifyPortIsNotAnAuthCode: the digits 535 in a port or address are
// no SMTP authentication failure (a refused dial on port 45535 was taken
// for a wrong password, and not retried).
func TestClassifyPortIsNotAnAuthCode(t *testing.T) {
	for text, retry := range map[string]bool{
		"dial tcp 127.0.0.1:45535: connect: connection refused": true,
		"dial tcp 10.0.535.1:25: i/o timeout":                   true,
		"535 5.7.8 Authentication credentials invalid":          false,
		"smtp: 535-5.7.8 Username and Password not accepted":    false,
	} {
		if got := notify.Retryable(classify(errors.New(text))); got != retry {
			t.Errorf("%q: retryable %v, want %v", text, got, retry)
		}
	}
}
