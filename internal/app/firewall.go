package app

import (
	"context"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/waf"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// firewall builds the edge's Firewall for a project's edge.waf settings
// (docs/waf.md): nil when the mode is off or there is nothing to enforce.
// It is called for every publish of an environment of a project with a
// policy, and when a policy is set, so a firewall it cannot build (geo
// lists on a server without --geoip-db) refuses the policy with the
// field named. The Core Rule Set is compiled once per process and per
// distinct edge.waf.exclude set, and shared.
func (a *App) firewall(w config.WAF) (edge.Firewall, error) {
	exclude, custom := w.FirewallRules()
	fw, err := waf.New(waf.Config{Mode: w.Mode, Rules: w.Rules, GeoAllow: w.GeoAllow, GeoDeny: w.GeoDeny, Geo: a.geo,
		Exclude: exclude, CustomRules: custom})
	if err != nil || fw == nil {
		return nil, err // a nil *waf.Firewall must not become a non-nil edge.Firewall
	}
	return fw, nil
}

// openGeoDB opens --geoip-db, the MaxMind country database behind
// edge.waf.geo_allow and geo_deny; it is closed after the edge stops.
func (a *App) openGeoDB() error {
	if a.opts.GeoIPDB == "" {
		return nil
	}
	db, err := waf.OpenGeoDB(a.opts.GeoIPDB)
	if err != nil {
		return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("--geoip-db: %v", err)).
			WithHint("give a MaxMind country database (.mmdb), e.g. GeoLite2-Country.mmdb or DB-IP's country lite")
	}
	a.geo = db
	a.onStop(func(_ context.Context) error { return db.Close() })
	return nil
}
