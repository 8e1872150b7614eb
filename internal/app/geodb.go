package app

import (
	"context"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/edge/waf"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// openGeoDB opens --geoip-db, the MaxMind country database behind
// edge.waf.geo_allow and geo_deny; it is closed after the edge stops.
func (a *App) openGeoDB() error {
	if a.opts.GeoIPDB == "" {
		return nil
	}
	db, err := waf.OpenGeoDB(a.opts.GeoIPDB)
	if err != nil {
		return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s: %v", a.opts.flag("geoip-db"), err)).
			WithHint("give a MaxMind country database (.mmdb), e.g. GeoLite2-Country.mmdb or DB-IP's country lite")
	}
	a.geo = db
	a.onStop(func(_ context.Context) error { return db.Close() })
	return nil
}
