package waf

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// writeGeoDB writes a GeoLite2-Country-shaped database: network to record.
func writeGeoDB(t testing.TB, records map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), "GeoLite2-Country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func country(code string) mmdbtype.Map {
	return mmdbtype.Map{
		"continent": mmdbtype.Map{"code": mmdbtype.String("AF")},
		"country": mmdbtype.Map{
			"iso_code":   mmdbtype.String(code),
			"geoname_id": mmdbtype.Uint32(953987),
			"names":      mmdbtype.Map{"en": mmdbtype.String("Somewhere")},
		},
	}
}

// fixtureGeoDB places 203.0.113.0/25 in ZA, 203.0.113.128/25 in KP,
// 2001:db8:1::/48 in DE; 198.51.100.0/24 has a record without a country and
// 198.51.101.0/24 a malformed code. Other addresses are unknown.
func fixtureGeoDB(t testing.TB) *GeoDB {
	t.Helper()
	path := writeGeoDB(t, map[string]mmdbtype.Map{
		"203.0.113.0/25":   country("ZA"),
		"203.0.113.128/25": country("KP"),
		"2001:db8:1::/48":  country("DE"),
		"198.51.100.0/24":  {"continent": mmdbtype.Map{"code": mmdbtype.String("EU")}},
		"198.51.101.0/24":  country("k<script>"),
	})
	db, err := OpenGeoDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestGeoDBCountry(t *testing.T) {
	db := fixtureGeoDB(t)
	for addr, want := range map[string]string{
		"203.0.113.7": "ZA", "203.0.113.200": "KP", "::ffff:203.0.113.200": "KP", "2001:db8:1::42": "DE",
		"192.0.2.1": "", "198.51.100.9": "", "198.51.101.9": "", "2001:db8:2::1": "",
	} {
		if got := db.Country(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Country(%s) = %q; want %q", addr, got, want)
		}
	}
	if got := db.Country(netip.Addr{}); got != "" {
		t.Errorf("Country(zero Addr) = %q", got)
	}
	var zero *GeoDB
	if got := (&GeoDB{}).Country(netip.MustParseAddr("203.0.113.7")); got != "" || zero.Close() != nil {
		t.Errorf("a zero GeoDB places an address (%q) or fails to close", got)
	}
}

func TestGeoRules(t *testing.T) {
	db := fixtureGeoDB(t)
	allowZA := Config{Mode: "block", GeoAllow: []string{"ZA"}, Geo: db}
	allowZAZZ := Config{Mode: "block", GeoAllow: []string{"ZA", "ZZ"}, Geo: db}
	denyKP := Config{Mode: "block", GeoDeny: []string{"KP"}, Geo: db}
	denyZZ := Config{Mode: "block", GeoDeny: []string{"ZZ"}, Geo: db}
	cases := []struct {
		c      Config
		client string
		want   string
	}{
		{allowZA, "203.0.113.7", ""},
		{allowZA, "203.0.113.200", "geo-KP"},
		{allowZA, "::ffff:203.0.113.200", "geo-KP"},
		{allowZA, "2001:db8:1::42", "geo-DE"},
		{allowZA, "192.0.2.1", "geo-ZZ"},    // public, not in the database
		{allowZA, "198.51.101.9", "geo-ZZ"}, // malformed code counts as unknown
		{allowZAZZ, "192.0.2.1", ""},
		{allowZA, "127.0.0.1", ""}, // not public: never geo-refused
		{allowZA, "10.1.2.3", ""},
		{allowZA, "192.168.0.10", ""},
		{allowZA, "100.64.0.1", ""},
		{allowZA, "::1", ""},
		{allowZA, "fd00::1", ""},
		{allowZA, "fe80::1", ""},
		{denyKP, "203.0.113.200", "geo-KP"},
		{denyKP, "203.0.113.7", ""},
		{denyKP, "192.0.2.1", ""},
		{denyKP, "10.1.2.3", ""},
		{denyZZ, "192.0.2.1", "geo-ZZ"},
		{denyZZ, "203.0.113.7", ""},
	}
	for _, c := range cases {
		f := mustNew(t, c.c)
		rule, block := f.Inspect(request(t, "GET", "/", chromeHeaders, ""), netip.MustParseAddr(c.client))
		if rule != c.want || block != (c.want != "") {
			t.Errorf("allow %v deny %v, client %s: Inspect = %q, %v; want %q", c.c.GeoAllow, c.c.GeoDeny, c.client, rule, block, c.want)
		}
	}
	f := mustNew(t, allowZA)
	if rule, _ := f.Inspect(request(t, "GET", "/", chromeHeaders, ""), netip.Addr{}); rule != "geo-ZZ" {
		t.Errorf("unknown client under geo_allow: %q; want geo-ZZ", rule)
	}
}

func TestGeoDetectModeReportsOnly(t *testing.T) {
	f := mustNew(t, Config{Mode: "detect", GeoDeny: []string{"KP"}, Geo: fixtureGeoDB(t)})
	if rule, block := f.Inspect(request(t, "GET", "/", chromeHeaders, ""), netip.MustParseAddr("203.0.113.200")); rule != "geo-KP" || block {
		t.Errorf("Inspect = %q, %v; want geo-KP, false", rule, block)
	}
}

func TestOpenGeoDBErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mmdb")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.mmdb"), junk} {
		db, err := OpenGeoDB(path)
		if db != nil || err == nil {
			t.Fatalf("OpenGeoDB(%s) = %v, %v; want an error", path, db, err)
		}
		if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), path) || !strings.Contains(usererr.HintOf(err), "--geoip-db") {
			t.Errorf("OpenGeoDB(%s): %v (hint %q); want a usage error naming the file and --geoip-db", path, err, usererr.HintOf(err))
		}
	}
}
