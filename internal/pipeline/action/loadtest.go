package action

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// loadTest runs an open-model load test against an environment (or a
// URL) and fails when a threshold is breached: see docs/pipelines.md,
// "Load tests".
func (d *Deps) loadTest(ctx context.Context, sc *Context) error {
	if err := d.runLoadTest(ctx, sc); err != nil {
		return fmt.Errorf("load-test: %w", err)
	}
	return nil
}

func (d *Deps) runLoadTest(ctx context.Context, sc *Context) error {
	lt, err := config.ParseLoadTest(sc.With)
	if err != nil {
		return err
	}
	targets, where, err := d.loadTargets(sc, lt)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < lt.Duration+lt.Timeout {
		return fmt.Errorf("with.duration: %s of load plus the %s request timeout do not fit in the step's time left (%s); raise the step's timeout",
			config.FormatDuration(lt.Duration), config.FormatDuration(lt.Timeout), config.FormatDuration(time.Until(dl).Round(time.Second)))
	}
	client, closeIdle := loadClient(lt.MaxInFlight)
	defer closeIdle()
	if d.HTTP != nil {
		client = d.HTTP
	}
	g := &loadGen{targets: targets, rate: lt.Rate, duration: lt.Duration, maxInFlight: lt.MaxInFlight,
		timeout: lt.Timeout, client: client, headers: d.EnvHeaders,
		progress: func(scheduled, open int, span time.Duration) {
			sc.Logf("%d starts scheduled in %s; %d still open, waiting up to %s",
				scheduled, span.Round(time.Millisecond), open, lt.Timeout)
		}}
	sc.Logf("load-test %s: %d requests/s for %s over %d path(s), at most %d in flight, timeout %s",
		where, lt.Rate, lt.Duration, len(targets), lt.MaxInFlight, lt.Timeout)
	span, err := g.run(ctx)
	if err != nil {
		return fmt.Errorf("stopped: %w", err)
	}
	r := summarize(g, span)
	r.log(sc, where, lt.Rate)
	r.setOutputs(sc)
	if breached := r.check(sc, lt.Thresholds); len(breached) > 0 {
		return fmt.Errorf("%d threshold(s) breached: %s", len(breached), strings.Join(breached, ", "))
	}
	return nil
}

// loadTargets resolves the paths against with.url or the environment's
// URL on the server's own edge; where names what is loaded for the log.
func (d *Deps) loadTargets(sc *Context, lt *config.LoadTest) (targets []loadTarget, where string, err error) {
	var base *url.URL
	env := ""
	if lt.URL != "" {
		if base, err = url.Parse(lt.URL); err != nil {
			return nil, "", fmt.Errorf("with.url: %w", err)
		}
		where = base.Redacted()
	} else if env = sc.Environment(); env == "" {
		return nil, "", errors.New("with.environment: name the environment to load, or give url")
	} else {
		where = env
	}
	for i, p := range lt.Paths {
		t := loadTarget{name: p}
		switch {
		case strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://"):
			t.url = p
		case base != nil:
			ref, _ := url.Parse(p) // checked by ParseLoadTest
			t.url = base.ResolveReference(ref).String()
		default:
			if t.url, t.local, err = d.resolve(sc, env, p); err != nil {
				return nil, "", fmt.Errorf("with.paths[%d]: %w", i, err)
			}
		}
		targets = append(targets, t)
	}
	return targets, where, nil
}
