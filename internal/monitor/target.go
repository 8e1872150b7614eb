package monitor

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Probe kinds.
const (
	KindHTTP = "http" // http:// and https:// URLs
	KindTCP  = "tcp"  // tcp://host:port: the port accepts a connection
	KindDNS  = "dns"  // dns://[server:port]/name?type=A: the name resolves
)

// Target is one probe: what to check, how often and what must hold.
type Target struct {
	Name        string
	Environment string
	Kind        string // KindHTTP (default), KindTCP, KindDNS; inferred from URL's scheme
	URL         string
	Method      string            // default GET
	Headers     map[string]string // Host here sets the request's Host
	Body        string
	Interval    time.Duration // default 60s
	Cron        string        // a cron schedule instead of Interval, e.g. "*/2 * * * *"
	Jitter      time.Duration // up to this much random delay per run (default Interval/10, at most 5s)
	Timeout     time.Duration // per attempt (default 10s)
	Retries     int           // extra attempts before a failure counts (default 2: 3 attempts, as App Insights)
	RetryDelay  time.Duration // between attempts (default 1s)
	// NoRedirects reports a redirect itself ([STATUS] == 301) instead of
	// following it.
	NoRedirects bool
	// Insecure skips certificate verification (self-signed test hosts); the
	// certificate's expiry is still measured.
	Insecure   bool
	Conditions []config.Condition // all must hold; default [STATUS] == 200 (HTTP), [CONNECTED] == true (TCP, DNS)
}

// ID is the target's key: "<environment>/<name>".
func (t *Target) ID() string { return t.Environment + "/" + t.Name }

// withDefaults fills unset fields and checks the URL.
func (t Target) withDefaults() (Target, error) {
	u, err := url.Parse(t.URL)
	if err != nil || u.Scheme == "" {
		return t, fmt.Errorf("monitor: probe %s: %q is not an absolute URL (hint: write e.g. https://www.example.com/health)", t.Name, t.URL)
	}
	switch u.Scheme {
	case "http", "https":
		t.Kind = KindHTTP
	case "tcp":
		t.Kind = KindTCP
	case "dns":
		t.Kind = KindDNS
	default:
		return t, fmt.Errorf("monitor: probe %s: scheme %q is not http, https, tcp or dns", t.Name, u.Scheme)
	}
	if t.Method == "" {
		t.Method = "GET"
	}
	t.Method = strings.ToUpper(t.Method)
	if t.Interval <= 0 && t.Cron == "" {
		t.Interval = time.Minute
	}
	if t.Timeout <= 0 {
		t.Timeout = 10 * time.Second
	}
	if t.Retries < 0 {
		t.Retries = 0
	}
	if t.RetryDelay <= 0 {
		t.RetryDelay = time.Second
	}
	if t.Jitter == 0 && t.Interval > 0 {
		t.Jitter = min(t.Interval/10, 5*time.Second)
	}
	if len(t.Conditions) == 0 {
		if t.Kind == KindHTTP {
			t.Conditions = []config.Condition{{Type: "status", Operator: "==", Value: "200"}}
		} else {
			t.Conditions = []config.Condition{{Type: "connected", Operator: "==", Value: "true"}}
		}
	}
	return t, nil
}

// Resolver resolves a path-only probe URL ("/health") against an
// environment.
type Resolver func(env string) (Base, error)

// Base is where an environment's path-only probes go.
type Base struct {
	URL     string            // the environment's base URL, e.g. https://www.example.com
	Headers map[string]string // sent with each probe: Host, when the probe reaches the edge by address; the server's probe marker
	// Insecure skips certificate verification: the server's own edge
	// reached by address, whose certificate is for the public names.
	Insecure bool
}

// FromEndpoint turns a phoenix.yaml probe into a Target, resolving a
// path-only URL with base.
func FromEndpoint(e config.Endpoint, env string, base Resolver) (Target, error) {
	if e.Environment != "" {
		env = e.Environment
	}
	t := Target{Name: e.Name, Environment: env, URL: e.URL, Method: e.Method, Headers: map[string]string{},
		Interval: e.Interval.D(), Timeout: e.Timeout.D(), Conditions: e.Conditions, Retries: 2}
	for k, v := range e.Headers {
		t.Headers[k] = v
	}
	if strings.HasPrefix(e.URL, "/") {
		if base == nil {
			return t, fmt.Errorf("monitor: probe %s: the path %s needs the environment's address", e.Name, e.URL)
		}
		b, err := base(env)
		if err != nil {
			return t, fmt.Errorf("monitor: probe %s: %w", e.Name, err)
		}
		t.URL = strings.TrimSuffix(b.URL, "/") + e.URL
		for k, v := range b.Headers {
			t.Headers[k] = v
		}
		t.Insecure = t.Insecure || b.Insecure
	}
	return t.withDefaults()
}
