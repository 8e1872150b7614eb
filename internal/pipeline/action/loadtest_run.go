package action

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// loadTarget is one URL a load test visits.
type loadTarget struct {
	name  string // as written in paths
	url   string
	local bool // on the server's own edge: sent with Deps.EnvHeaders
}

// pathStats are the figures of one target.
type pathStats struct {
	hist      *histogram // latency of every answered request, from its scheduled start
	scheduled uint64     // starts the schedule asked for
	requests  uint64     // requests started
	ok        uint64     // 1xx, 2xx, 3xx
	c4xx      uint64
	c5xx      uint64
	transport uint64 // no answer: refused, reset, timed out
	dropped   uint64 // not started: max_in_flight requests were open
}

// loadGen is an open-model load generator: request i starts at
// start + i/rate whether or not earlier ones have answered (k6's
// constant-arrival-rate, wrk2), so a slow server cannot slow the test down
// and hide its own slowness (coordinated omission). A start that finds
// maxInFlight requests open is dropped and counted.
type loadGen struct {
	targets     []loadTarget
	rate        int
	duration    time.Duration
	maxInFlight int
	timeout     time.Duration
	client      *http.Client
	headers     map[string]string // for local targets
	// progress, when set, is told once every start is scheduled.
	progress func(scheduled, inFlight int, span time.Duration)

	mu       sync.Mutex
	stats    []*pathStats
	errs     map[string]uint64 // transport error texts, at most maxErrTexts
	inFlight int
}

const maxErrTexts = 20

// run starts the requests and waits for every one to end. span is how
// long the starts took (the duration, or more when the machine fell
// behind). Cancelling ctx stops the schedule and every open request at once.
func (g *loadGen) run(ctx context.Context) (span time.Duration, err error) {
	g.stats = make([]*pathStats, len(g.targets))
	for i := range g.stats {
		g.stats[i] = &pathStats{hist: newHistogram()}
	}
	g.errs = map[string]uint64{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, g.maxInFlight)
	var wg sync.WaitGroup
	total := int64(g.duration) * int64(g.rate) / int64(time.Second)
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := int64(0); i < total; i++ {
		at := start.Add(time.Duration(i * int64(time.Second) / int64(g.rate)))
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		t := int(i % int64(len(g.targets)))
		select {
		case sem <- struct{}{}:
			g.count(t, func(s *pathStats) { s.scheduled++; s.requests++ }, 1)
			wg.Go(func() {
				defer func() { <-sem }()
				g.do(ctx, t, at)
			})
		default:
			g.count(t, func(s *pathStats) { s.scheduled++; s.dropped++ }, 0)
		}
	}
	span = max(time.Since(start), g.duration)
	if g.progress != nil && ctx.Err() == nil {
		g.mu.Lock()
		open := g.inFlight
		g.mu.Unlock()
		g.progress(int(total), open, span)
	}
	wg.Wait()
	return span, context.Cause(ctx)
}

// count updates target t's figures and the number of open requests.
func (g *loadGen) count(t int, f func(*pathStats), open int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g.stats[t])
	g.inFlight += open
}

// do sends one request and records its outcome; latency runs from at,
// the scheduled start, to the end of the body.
func (g *loadGen) do(ctx context.Context, t int, at time.Time) {
	rctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	status, err := g.send(rctx, g.targets[t])
	lat := time.Since(at)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
	if ctx.Err() != nil {
		return // the run was cancelled: its figures are not reported
	}
	s := g.stats[t]
	switch {
	case err != nil:
		s.transport++
		g.noteErr(err, rctx)
		return
	case status >= 500:
		s.c5xx++
	case status >= 400:
		s.c4xx++
	default:
		s.ok++
	}
	s.hist.record(lat)
}

func (g *loadGen) send(ctx context.Context, t loadTarget) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "phoenix-load-test")
	if t.local {
		for k, v := range g.headers {
			req.Header.Set(k, v)
		}
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// noteErr keeps a count per kind of transport error, for the log.
func (g *loadGen) noteErr(err error, rctx context.Context) {
	msg := err.Error()
	if errors.Is(rctx.Err(), context.DeadlineExceeded) {
		msg = "no answer within " + g.timeout.String()
	}
	if _, ok := g.errs[msg]; ok || len(g.errs) < maxErrTexts {
		g.errs[msg]++
	}
}

// loadClient returns a client with a connection pool as large as the
// test can keep open, resolving *.localhost to loopback like the health
// checks; close releases its connections.
func loadClient(maxInFlight int) (c *http.Client, close func()) {
	tr := &http.Transport{DialContext: dialLocal, Proxy: nil, ForceAttemptHTTP2: true,
		MaxIdleConns: maxInFlight, MaxIdleConnsPerHost: maxInFlight, IdleConnTimeout: 30 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, TLSClientConfig: localTLS}
	return &http.Client{Transport: tr, CheckRedirect: noRedirects}, tr.CloseIdleConnections
}
