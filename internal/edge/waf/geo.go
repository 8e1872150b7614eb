package waf

import (
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// UnknownCountry is the code of a public address the database cannot place
// (Azure Front Door's convention). List it in geo_allow to let such clients
// in, in geo_deny to keep them out.
const UnknownCountry = "ZZ"

// GeoDB is a MaxMind-format country database (GeoLite2-Country,
// GeoIP2-Country or -City, DB-IP's country lite .mmdb). It is safe for
// concurrent use; Close it after the last Firewall using it is gone.
type GeoDB struct {
	r *maxminddb.Reader
}

// OpenGeoDB opens the .mmdb file at path (memory-mapped).
func OpenGeoDB(path string) (*GeoDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, "GeoIP database "+path+" cannot be read: "+err.Error()).
			WithHint("pass a MaxMind .mmdb country database such as GeoLite2-Country.mmdb with --geoip-db")
	}
	return &GeoDB{r: r}, nil
}

// Close releases the database (unmaps the file): call it only once no
// Firewall built with it can inspect a request any more.
func (g *GeoDB) Close() error {
	if g == nil || g.r == nil {
		return nil
	}
	return g.r.Close()
}

// Country returns a's ISO 3166 alpha-2 country code, or "" when the
// database does not place it.
func (g *GeoDB) Country(a netip.Addr) string {
	if g == nil || g.r == nil || !a.IsValid() {
		return ""
	}
	var code string
	if err := g.r.Lookup(a.Unmap()).DecodePath(&code, "country", "iso_code"); err != nil || !isCountryCode(code) {
		return ""
	}
	return code
}

// geoPolicy is geo_allow (allow true: only listed countries pass) or geo_deny.
type geoPolicy struct {
	db    *GeoDB
	allow bool
	set   map[string]bool
}

func newGeoPolicy(allow, deny []string, db *GeoDB) (*geoPolicy, error) {
	if len(allow) == 0 && len(deny) == 0 {
		return nil, nil
	}
	if len(allow) > 0 && len(deny) > 0 {
		return nil, usererr.New(usererr.Usage, "edge.waf: geo_allow and geo_deny exclude each other").
			WithHint("use either geo_allow or geo_deny")
	}
	field, list := "geo_deny", deny
	if len(allow) > 0 {
		field, list = "geo_allow", allow
	}
	set, err := parseCountries(field, list)
	if err != nil {
		return nil, err
	}
	if db == nil {
		return nil, usererr.New(usererr.Usage, "edge.waf.%s needs a GeoIP database", field).
			WithHint("start the server with --geoip-db /var/lib/phoenix/GeoLite2-Country.mmdb")
	}
	return &geoPolicy{db: db, allow: len(allow) > 0, set: set}, nil
}

// check returns "geo-XX" when client's country XX is refused. Addresses
// that are not public (loopback, private, link-local, ...) are never refused:
// they are the operator's own network and no database places them.
func (p *geoPolicy) check(client netip.Addr) string {
	if p == nil || !isPublic(client) {
		return ""
	}
	c := p.db.Country(client)
	if c == "" {
		c = UnknownCountry
	}
	if p.set[c] != p.allow {
		return "geo-" + c
	}
	return ""
}

// isPublic reports whether a is a global unicast address outside the
// private ranges. The zero Addr (client unknown) counts as public, so that
// geo_allow refuses it as country ZZ.
func isPublic(a netip.Addr) bool {
	if !a.IsValid() {
		return true
	}
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !sharedAddressSpace.Contains(a)
}

// sharedAddressSpace is RFC 6598's carrier-grade NAT range.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")
