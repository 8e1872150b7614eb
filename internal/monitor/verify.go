package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/edge"
)

// VerifyOptions configure post-deployment verification.
type VerifyOptions struct {
	// Base resolves path-only check URLs ("/health") for an environment
	// (see FromEndpoint).
	Base   Resolver
	Prober *Prober                // default NewProber()
	Edge   func() []edge.EnvStats // when set, the environment's real traffic during the soak counts too
	Soak   time.Duration          // how long checks repeat (default 10s; 0 after defaults means one round)
	Every  time.Duration          // time between rounds (default 1s)
	// Load is how many extra requests per round and check are sent at
	// once, as light load (default 0).
	Load         int
	MaxErrorRate float64       // percent of failed requests tolerated (default 1)
	MaxLatency   time.Duration // p95 limit (default 1000ms)
	Logger       *slog.Logger
}

// CheckResult is one health check over the soak.
type CheckResult struct {
	Name       string        `json:"name"`
	URL        string        `json:"url"`
	OK         bool          `json:"ok"`
	Runs       int           `json:"runs"`
	Failures   int           `json:"failures"`
	P95        time.Duration `json:"-"`               // JSON: p95_ms (resultjson.go)
	CertExpiry time.Duration `json:"-"`               // JSON: cert_seconds_left
	Error      string        `json:"error,omitempty"` // the first failure's reason
}

// VerifyResult is the verdict on a deployment.
type VerifyResult struct {
	Environment  string        `json:"environment"`
	OK           bool          `json:"ok"`
	Reason       string        `json:"reason,omitempty"` // why it failed, one line
	Checks       []CheckResult `json:"checks"`
	Requests     int           `json:"requests"`
	Failed       int           `json:"failed"`
	ErrorRate    float64       `json:"error_rate"`              // percent
	P95          time.Duration `json:"-"`                       // JSON: p95_ms (resultjson.go)
	EdgeRequests uint64        `json:"edge_requests,omitempty"` // real traffic during the soak
	EdgeFailed   uint64        `json:"edge_failed,omitempty"`
	Started      time.Time     `json:"started"`
	Duration     time.Duration `json:"-"` // JSON: duration_seconds
}

// Verifier checks an environment after a deployment.
type Verifier struct{ opts VerifyOptions }

// NewVerifier returns a Verifier.
func NewVerifier(o VerifyOptions) *Verifier {
	if o.Prober == nil {
		o.Prober = NewProber()
	}
	if o.Soak < 0 {
		o.Soak = 0
	} else if o.Soak == 0 {
		o.Soak = 10 * time.Second
	}
	if o.Every <= 0 {
		o.Every = time.Second
	}
	if o.MaxErrorRate <= 0 {
		o.MaxErrorRate = 1
	}
	if o.MaxLatency <= 0 {
		o.MaxLatency = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Verifier{opts: o}
}

// Verify runs the environment's health checks (availability, TLS, content
// conditions) every Every for Soak, with Load extra requests per round, and
// judges the error rate and p95 latency over all of them. Without checks it
// requests "/" and expects 200. Its idle connections are closed when it
// returns: verifications are rare, and a connection kept open to the
// server's own edge (HTTP/2 over TLS) would hold up the edge's graceful
// shutdown until its timeout.
func (v *Verifier) Verify(ctx context.Context, env string, checks []config.Endpoint) VerifyResult {
	defer v.opts.Prober.Close()
	res := VerifyResult{Environment: env, Started: time.Now()}
	if len(checks) == 0 {
		checks = []config.Endpoint{{Name: "home", URL: "/"}}
	}
	var targets []Target
	for _, c := range checks {
		t, err := FromEndpoint(c, env, v.opts.Base)
		if err != nil {
			res.Reason = err.Error()
			return res
		}
		t.Retries = 0
		targets = append(targets, t)
	}
	before := v.edgeStats(env)
	samples := make([][]Result, len(targets))
	for round := 0; ; round++ {
		v.round(ctx, targets, samples)
		if ctx.Err() != nil || time.Since(res.Started)+v.opts.Every > v.opts.Soak {
			break
		}
		t := time.NewTimer(v.opts.Every)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	after := v.edgeStats(env)
	if after.Requests >= before.Requests {
		res.EdgeRequests, res.EdgeFailed = after.Requests-before.Requests, after.Failed-min(before.Failed, after.Failed)
	}
	v.judge(&res, targets, samples)
	res.Duration = time.Since(res.Started)
	return res
}

// round runs every check once, plus Load extra requests, all at once.
func (v *Verifier) round(ctx context.Context, targets []Target, samples [][]Result) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, t := range targets {
		for range 1 + v.opts.Load {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := v.opts.Prober.Probe(ctx, t)
				mu.Lock()
				samples[i] = append(samples[i], r)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
}

func (v *Verifier) edgeStats(env string) edge.EnvStats {
	if v.opts.Edge == nil {
		return edge.EnvStats{}
	}
	for _, s := range v.opts.Edge() {
		if s.Env == env {
			return s
		}
	}
	return edge.EnvStats{}
}

// judge fills in the verdict.
func (v *Verifier) judge(res *VerifyResult, targets []Target, samples [][]Result) {
	var all []time.Duration
	var reasons []string
	for i, t := range targets {
		c := CheckResult{Name: t.Name, URL: t.URL}
		var durs []time.Duration
		for _, r := range samples[i] {
			c.Runs++
			durs = append(durs, r.Duration)
			if r.CertExpiry > 0 {
				c.CertExpiry = r.CertExpiry
			}
			if !r.Success {
				c.Failures++
				if c.Error == "" {
					c.Error = r.Error
				}
			}
		}
		c.P95 = p95(durs)
		all = append(all, durs...)
		res.Requests += c.Runs
		res.Failed += c.Failures
		tlsBad := strings.HasPrefix(c.Error, "tls:")
		c.OK = c.Runs > 0 && !tlsBad && 100*float64(c.Failures)/float64(c.Runs) <= v.opts.MaxErrorRate
		if !c.OK {
			reasons = append(reasons, fmt.Sprintf("%s failed %d of %d: %s", c.Name, c.Failures, c.Runs, c.Error))
		}
		res.Checks = append(res.Checks, c)
	}
	if res.Requests > 0 {
		res.ErrorRate = 100 * float64(res.Failed) / float64(res.Requests)
	}
	res.P95 = p95(all)
	if res.P95 > v.opts.MaxLatency {
		reasons = append(reasons, fmt.Sprintf("p95 latency %s is over %s", res.P95.Round(time.Millisecond), config.FormatDuration(v.opts.MaxLatency)))
	}
	if res.EdgeRequests >= 20 {
		if rate := 100 * float64(res.EdgeFailed) / float64(res.EdgeRequests); rate > v.opts.MaxErrorRate {
			reasons = append(reasons, fmt.Sprintf("%.1f%% of %d real requests failed during the soak (limit %g%%)", rate, res.EdgeRequests, v.opts.MaxErrorRate))
		}
	}
	res.OK = len(reasons) == 0
	res.Reason = strings.Join(reasons, "; ")
}

func p95(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)*95+99)/100-1]
}
