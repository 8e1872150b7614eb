package action

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Probe is one health check's outcome.
type Probe struct {
	Status   int
	Elapsed  time.Duration
	Body     []byte
	Header   http.Header
	CertLeft time.Duration // time until the TLS certificate expires; 0 without TLS
	Err      error
}

// healthCheck probes the environment's health_checks (or its home page)
// until every condition holds, retrying for input attempts (default 10)
// with input interval (default 1s) between tries.
func (d *Deps) healthCheck(ctx context.Context, sc *Context) error {
	env := sc.Environment()
	var checks []config.Endpoint
	if sc.Config != nil && sc.Config.Environments[env] != nil {
		checks = sc.Config.Environments[env].HealthChecks
	}
	if len(checks) == 0 {
		checks = []config.Endpoint{{Name: "home", URL: "/", Method: "GET", Timeout: config.Duration(10 * time.Second)}}
	}
	attempts := max(sc.Int("attempts", 10), 1)
	interval := d.HealthInterval
	if interval <= 0 {
		interval = time.Second
	}
	if s := sc.String("interval"); s != "" {
		if v, err := config.ParseDuration(s); err == nil {
			interval = v
		}
	}
	for _, ep := range checks {
		target, local, err := d.resolve(sc, env, ep.URL)
		if err != nil {
			return fmt.Errorf("health check %s: %w", ep.Name, err)
		}
		var last error
		for i := 0; i < attempts; i++ {
			if i > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(interval):
				}
			}
			p := d.probe(ctx, ep, target, local)
			if last = Evaluate(p, ep.Conditions); last == nil {
				sc.Logf("%s: %s answered %d in %s: healthy", ep.Name, target, p.Status, p.Elapsed.Round(time.Millisecond))
				break
			}
			sc.Logf("%s: attempt %d/%d: %v", ep.Name, i+1, attempts, last)
		}
		if last != nil {
			return fmt.Errorf("health check %s of %s failed: %w", ep.Name, env, last)
		}
	}
	if sc.HealthChecked != nil {
		return sc.HealthChecked(ctx, env)
	}
	return nil
}

// resolve turns a path into a URL of the environment on the server's own
// edge (local), and leaves a full URL as it is.
func (d *Deps) resolve(sc *Context, env, raw string) (target string, local bool, err error) {
	if strings.HasPrefix(raw, "http://") || strings.HasPrefix(raw, "https://") {
		return raw, false, nil
	}
	if d.EnvURL == nil {
		return "", false, fmt.Errorf("%q is a path and the server has no URL for environments", raw)
	}
	base, err := url.Parse(d.EnvURL(sc.Run.Project, env))
	if err != nil {
		return "", false, err
	}
	ref, err := url.Parse(raw)
	if err != nil {
		return "", false, err
	}
	return base.ResolveReference(ref).String(), true, nil
}

// localClient resolves *.localhost (how the edge names environments) to
// the loopback address, whatever the system resolver does.
var localClient = &http.Client{Transport: &http.Transport{DialContext: dialLocal, Proxy: nil, TLSClientConfig: localTLS},
	CheckRedirect: noRedirects}

// localTLS verifies certificates as usual, except for *.localhost: the
// server's own edge reached by address, whose certificate is for the
// public names (an edge serving HTTPS on its one listener).
var localTLS = &tls.Config{InsecureSkipVerify: true, VerifyConnection: verifyUnlessLocal, MinVersion: tls.VersionTLS12} //nolint:gosec // verified in VerifyConnection

// verifyUnlessLocal is crypto/tls's own verification (system roots, the
// server name), skipped for *.localhost.
func verifyUnlessLocal(cs tls.ConnectionState) error {
	if isLocalHost(cs.ServerName) {
		return nil
	}
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: cs.ServerName, Intermediates: inter})
	return err
}

func isLocalHost(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// dialLocal dials *.localhost on the loopback address, anything else as given.
func dialLocal(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && isLocalHost(host) {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
}

// noRedirects makes a client return a redirect as the answer.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (d *Deps) probe(ctx context.Context, ep config.Endpoint, target string, local bool) Probe {
	timeout := ep.Timeout.D()
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, firstNonEmpty(ep.Method, "GET"), target, nil)
	if err != nil {
		return Probe{Err: err}
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	if local {
		for k, v := range d.EnvHeaders {
			req.Header.Set(k, v)
		}
	}
	client := d.HTTP
	if client == nil {
		client = localClient
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Probe{Err: err, Elapsed: time.Since(start)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	p := Probe{Status: resp.StatusCode, Elapsed: time.Since(start), Body: body, Header: resp.Header}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		p.CertLeft = time.Until(resp.TLS.PeerCertificates[0].NotAfter)
	}
	return p
}

// Evaluate checks every condition against p (default: status 200) and
// returns an error naming the first that does not hold.
func Evaluate(p Probe, conds []config.Condition) error {
	if len(conds) == 0 {
		conds = []config.Condition{{Type: "status", Operator: "==", Value: "200"}}
	}
	for _, c := range conds {
		if c.Type == "connected" {
			if got := p.Err == nil; strconv.FormatBool(got) != c.Value == (c.Operator == "==") {
				return fmt.Errorf("%s: connected is %v", c, got)
			}
			continue
		}
		if p.Err != nil {
			return fmt.Errorf("request failed: %w", p.Err)
		}
		if err := evalOne(p, c); err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
	}
	return nil
}

func evalOne(p Probe, c config.Condition) error {
	var lhs string
	switch c.Type {
	case "status":
		lhs = strconv.Itoa(p.Status)
	case "response_time":
		lhs = strconv.FormatInt(p.Elapsed.Milliseconds(), 10)
	case "body":
		v, ok := bodyValue(p.Body, c.Path)
		if c.Func == "has" {
			lhs = strconv.FormatBool(ok)
		} else {
			lhs = v
		}
	case "header":
		lhs = p.Header.Get(c.Path)
	case "certificate_expiration":
		if p.CertLeft == 0 {
			return nil // plain HTTP: nothing to check
		}
		lhs = strconv.FormatInt(p.CertLeft.Milliseconds(), 10)
	default:
		return nil // ip: not checked by deployment health checks
	}
	if c.Func == "len" {
		lhs = strconv.Itoa(len(lhs))
	}
	if compare(lhs, c.Operator, c.Value, c.Type) {
		return nil
	}
	return fmt.Errorf("got %q", clipStr(lhs, 80))
}

// bodyValue returns the body, or the JSON value at a dotted path.
func bodyValue(body []byte, path string) (string, bool) {
	if path == "" {
		return string(body), true
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return "", false
	}
	for _, part := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[part]; !ok {
			return "", false
		}
	}
	if s, ok := v.(string); ok {
		return s, true
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

func compare(lhs, op, rhs, typ string) bool {
	if inner, ok := strings.CutPrefix(rhs, "any("); ok && strings.HasSuffix(inner, ")") {
		hit := false
		for _, part := range strings.Split(strings.TrimSuffix(inner, ")"), ",") {
			hit = hit || compare(lhs, "==", strings.TrimSpace(part), typ)
		}
		return hit == (op != "!=")
	}
	if inner, ok := strings.CutPrefix(rhs, "pat("); ok && strings.HasSuffix(inner, ")") {
		return wildcard(strings.TrimSuffix(inner, ")"), lhs) == (op != "!=")
	}
	a, errA := strconv.ParseFloat(lhs, 64)
	b, errB := numeric(rhs, typ)
	if errA != nil || errB != nil {
		switch op {
		case "==":
			return lhs == rhs
		case "!=":
			return lhs != rhs
		}
		return false
	}
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

// numeric reads rhs as a number; durations (for times) become milliseconds.
func numeric(rhs, typ string) (float64, error) {
	if f, err := strconv.ParseFloat(rhs, 64); err == nil {
		return f, nil
	}
	if typ == "response_time" || typ == "certificate_expiration" {
		d, err := config.ParseDuration(rhs)
		return float64(d.Milliseconds()), err
	}
	return 0, errors.New("not a number")
}

// wildcard matches s against a pattern with * (any run) and ? (one byte).
func wildcard(pat, s string) bool {
	px, sx, star, mark := 0, 0, -1, 0
	for sx < len(s) {
		switch {
		case px < len(pat) && (pat[px] == '?' || pat[px] == s[sx]):
			px++
			sx++
		case px < len(pat) && pat[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pat) && pat[px] == '*' {
		px++
	}
	return px == len(pat)
}

func clipStr(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
