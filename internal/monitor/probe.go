package monitor

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"
)

// Result is the outcome of one probe run (after its retries).
type Result struct {
	Target      string             `json:"target"` // Target.ID()
	Name        string             `json:"name"`
	Environment string             `json:"environment"`
	Time        time.Time          `json:"time"`
	Success     bool               `json:"success"`
	Duration    time.Duration      `json:"-"` // of the last attempt; JSON: duration_ms (resultjson.go)
	Status      int                `json:"status,omitempty"`
	IP          string             `json:"ip,omitempty"`
	CertExpiry  time.Duration      `json:"-"`               // time left on the server certificate; JSON: cert_seconds_left
	Error       string             `json:"error,omitempty"` // why it failed: timeout, refused, tls, a condition
	Attempts    int                `json:"attempts"`
	Conditions  []CheckedCondition `json:"conditions,omitempty"`
}

// maxBody is how much of a response body conditions see.
const maxBody = 1 << 20

// maxDrain is how much more of a body is read (and dropped) before the
// answer counts as endless.
const maxDrain = 32 << 20

// Prober runs probes. It is safe for concurrent use; HTTP connections are
// pooled across probes of the same host.
type Prober struct {
	secure, insecure *http.Transport
	dialer           *net.Dialer
	now              func() time.Time
}

// NewProber returns a Prober.
func NewProber() *Prober {
	mk := func(insecure bool) *http.Transport {
		return &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     &tls.Config{InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12}, //nolint:gosec // opt-in per target
			MaxIdleConns:        4096,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   true,
		}
	}
	return &Prober{secure: mk(false), insecure: mk(true), dialer: &net.Dialer{}, now: time.Now}
}

// Close drops idle connections.
func (p *Prober) Close() {
	p.secure.CloseIdleConnections()
	p.insecure.CloseIdleConnections()
}

// Probe runs t, retrying up to t.Retries times before a failure counts.
// It never blocks longer than (Retries+1)*(Timeout+RetryDelay).
func (p *Prober) Probe(ctx context.Context, t Target) Result {
	var r Result
	for attempt := 1; ; attempt++ {
		r = p.once(ctx, t)
		r.Attempts = attempt
		if r.Success || attempt > t.Retries || ctx.Err() != nil {
			return r
		}
		timer := time.NewTimer(t.RetryDelay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return r
		case <-timer.C:
		}
	}
}

func (p *Prober) once(ctx context.Context, t Target) Result {
	r := Result{Target: t.ID(), Name: t.Name, Environment: t.Environment, Time: p.now()}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	var o observed
	var err error
	switch t.Kind {
	case KindTCP:
		err = p.tcp(ctx, t, &o)
	case KindDNS:
		err = p.dns(ctx, t, &o)
	default:
		err = p.http(ctx, t, &o)
	}
	r.Duration, r.Status, r.IP = o.elapsed, o.status, o.ip
	if o.hasCert {
		r.CertExpiry = o.certExpiry
	}
	if err != nil {
		r.Error = reason(err, t.Timeout)
		// Conditions on [CONNECTED] == false still get their say.
		r.Conditions, r.Success = evaluate(t.Conditions, &o)
		r.Success = r.Success && !o.connected && hasConnectedFalse(t)
		return r
	}
	var ok bool
	r.Conditions, ok = evaluate(t.Conditions, &o)
	r.Success = ok
	if !ok {
		var failed []string
		for _, c := range r.Conditions {
			if !c.OK {
				// One line: the reason goes into tables, alerts and error
				// messages, and a page's line breaks would split them.
				failed = append(failed, c.Condition+" (got "+strings.Join(strings.Fields(c.Got), " ")+")")
			}
		}
		r.Error = "condition failed: " + strings.Join(failed, "; ")
	}
	return r
}

func hasConnectedFalse(t Target) bool {
	for _, c := range t.Conditions {
		if c.Type == "connected" && (c.Value == "false" && c.Operator == "==" || c.Value == "true" && c.Operator == "!=") {
			return true
		}
	}
	return false
}

func (p *Prober) http(ctx context.Context, t Target, o *observed) error {
	var body io.Reader
	if t.Body != "" {
		body = strings.NewReader(t.Body)
	}
	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, body)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "phoenix-monitor/1")
	for k, v := range t.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) {
			if a, ok := ci.Conn.RemoteAddr().(*net.TCPAddr); ok {
				o.ip = a.IP.String()
			}
		},
	}))
	tr := p.secure
	if t.Insecure {
		tr = p.insecure
	}
	client := &http.Client{Transport: tr}
	if t.NoRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	} else {
		client.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		}
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		o.elapsed = time.Since(start)
		return err
	}
	defer resp.Body.Close()
	o.connected = true
	o.status = resp.StatusCode
	o.header = resp.Header
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		o.hasCert = true
		o.certExpiry = resp.TLS.PeerCertificates[0].NotAfter.Sub(p.now())
	}
	if t.Method != http.MethodHead {
		o.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err == nil {
			// Read the rest so an endless answer fails instead of passing.
			var n int64
			n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain+1))
			if err == nil && n > maxDrain {
				err = errors.New("the body is larger than 33 MiB (hint: probe a small health URL)")
			}
		}
	}
	o.elapsed = time.Since(start)
	if err != nil {
		return errors.New("reading the body: " + reason(err, t.Timeout))
	}
	return nil
}

func (p *Prober) tcp(ctx context.Context, t Target, o *observed) error {
	u, _ := url.Parse(t.URL)
	start := time.Now()
	c, err := p.dialer.DialContext(ctx, "tcp", u.Host)
	o.elapsed = time.Since(start)
	if err != nil {
		return err
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		o.ip = a.IP.String()
	}
	o.connected = true
	return c.Close()
}

// reason turns a probe error into a short, stable explanation.
func reason(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dns *net.DNSError
	var ne net.Error
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timeout: no complete answer within " + timeout.String()
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "dns: no such host " + dns.Name
		}
		return "dns: " + dns.Err
	case errors.As(err, &certErr):
		return "tls: " + certErr.Err.Error()
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "tls:") || strings.Contains(s, "x509:"):
		return "tls: " + s[strings.LastIndex(s, ": ")+2:]
	}
	return s
}
