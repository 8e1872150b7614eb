package action

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/dnsupdate"
)

// dnsRequest is a dns/update step's inputs, checked.
type dnsRequest struct {
	server, zone string
	set          dnsupdate.RRset
	typ          string
	key          dnsupdate.Key
	secretName   string
	timeout      time.Duration
}

// parseDNSRequest reads and checks the inputs of dns/update (all but the
// secret's value); every error names its input.
func parseDNSRequest(sc *Context) (*dnsRequest, error) {
	q := &dnsRequest{key: dnsupdate.Key{Name: sc.String("tsig_key"), Algorithm: sc.String("tsig_algorithm")}}
	var err error
	if q.server, err = dnsupdate.ServerAddr(sc.String("server")); err != nil {
		return nil, fmt.Errorf("with.server: %w", err)
	}
	if q.zone, err = dnsupdate.Zone(sc.String("zone")); err != nil {
		return nil, fmt.Errorf("with.zone: %w", err)
	}
	if q.set.Name, err = dnsupdate.Name(q.zone, sc.String("name")); err != nil {
		return nil, fmt.Errorf("with.name: %w", err)
	}
	q.typ = strings.ToUpper(strings.TrimSpace(sc.String("type")))
	if q.set.Type, err = dnsupdate.ParseType(sc.String("type")); err != nil {
		return nil, fmt.Errorf("with.type: %w", err)
	}
	if q.set.Values, err = dnsValues(q.zone, q.set.Type, q.typ, sc.Strings("values")); err != nil {
		return nil, fmt.Errorf("with.values: %w", err)
	}
	if q.set.TTL, err = dnsTTL(sc.String("ttl")); err != nil {
		return nil, fmt.Errorf("with.ttl: %w", err)
	}
	if q.timeout, err = dnsTimeout(sc.String("timeout")); err != nil {
		return nil, fmt.Errorf("with.timeout: %w", err)
	}
	if alg := q.key.Algorithm; alg != "" {
		if _, ok := dnsupdate.Algorithms[strings.ToLower(alg)]; !ok {
			return nil, fmt.Errorf("with.tsig_algorithm: %q is not supported; use hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1", alg)
		}
	}
	q.secretName = sc.String("tsig_secret")
	switch {
	case q.key.Name == "":
		return nil, errors.New("with.tsig_key: give the name of the TSIG key the server accepts updates from")
	case q.secretName == "":
		return nil, errors.New("with.tsig_secret: give the name of the vault secret that holds the key's base64 secret")
	case !secretNameRx.MatchString(q.secretName):
		// Never echo it: it may be the key itself pasted into phoenix.yaml.
		return nil, errors.New("with.tsig_secret must name a vault secret (letters, digits and _), not hold the key itself: store the key in the vault and give its name")
	}
	return q, nil
}

// dnsValues checks and canonicalises the values (a list, or one string
// with values separated by commas or spaces; TXT values are taken whole).
func dnsValues(zone string, typ uint16, name string, raw []string) ([]string, error) {
	var vals []string
	for _, r := range raw {
		if name == "TXT" {
			vals = append(vals, r)
			continue
		}
		vals = append(vals, strings.FieldsFunc(r, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' || c == '\n' })...)
	}
	if len(vals) == 0 {
		return nil, errors.New("give one or more values (a CNAME: exactly one target)")
	}
	if name == "CNAME" && len(vals) != 1 {
		return nil, fmt.Errorf("a CNAME holds exactly one target, not %d (%s)", len(vals), strings.Join(vals, ", "))
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		c, err := dnsupdate.Canonical(zone, typ, v)
		if err != nil {
			return nil, err
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// dnsTTL parses ttl: seconds or a duration, default 60s (short, so a
// switch back takes effect quickly).
func dnsTTL(s string) (uint32, error) {
	if s == "" {
		return 60, nil
	}
	var d time.Duration
	if n, err := strconv.Atoi(s); err == nil {
		d = time.Duration(n) * time.Second
	} else if d, err = config.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("%q is not a number of seconds or a duration such as 5m", s)
	}
	if d < time.Second || d > 7*24*time.Hour {
		return 0, fmt.Errorf("%q: use 1s to 7d", s)
	}
	return uint32(d / time.Second), nil
}

func dnsTimeout(s string) (time.Duration, error) {
	if s == "" {
		return 10 * time.Second, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil || d <= 0 || d > 10*time.Minute {
		return 0, fmt.Errorf("%q: give a duration from 1ms to 10m, e.g. 10s", s)
	}
	return d, nil
}

// dnsUpdate replaces an RRset on a DNS primary with a TSIG-signed RFC
// 2136 UPDATE, verifies it by asking the primary, and outputs the old
// values as "previous" so a later step can switch back.
func (d *Deps) dnsUpdate(ctx context.Context, sc *Context) error {
	err := d.runDNSUpdate(ctx, sc)
	if err != nil {
		return fmt.Errorf("dns/update: %w", err)
	}
	return nil
}

func (d *Deps) runDNSUpdate(ctx context.Context, sc *Context) error {
	q, err := parseDNSRequest(sc)
	if err != nil {
		return err
	}
	if d.Secrets == nil {
		return fmt.Errorf("with.tsig_secret: no secret source to read %s from (configure the vault)", q.secretName)
	}
	secret, err := d.secret(ctx, sc, q.secretName) // masked as fetched and trimmed
	if err != nil {
		return fmt.Errorf("with.tsig_secret: %w", err)
	}
	secret = strings.TrimSpace(secret)
	if _, err := base64.StdEncoding.DecodeString(secret); err != nil || secret == "" {
		return fmt.Errorf("with.tsig_secret: the secret %s is not base64 (store the secret line of the key file, e.g. from tsig-keygen or keymgr)", q.secretName)
	}
	q.key.Secret = secret
	c := &dnsupdate.Client{Server: q.server, Key: q.key, Timeout: q.timeout}
	return switchRRset(ctx, sc, c, q)
}

func switchRRset(ctx context.Context, sc *Context, c *dnsupdate.Client, q *dnsRequest) error {
	label := strings.TrimSuffix(q.set.Name, ".") + " " + q.typ
	before, err := c.Query(ctx, q.set.Name, q.set.Type)
	if err != nil {
		return err
	}
	previous := strings.Join(before.Values, ",")
	sc.SetOutput("previous", previous)
	if before.Equal(q.set) {
		sc.Logf("%s already holds %s (ttl %d) on %s: nothing to send", label, strings.Join(q.set.Values, ", "), q.set.TTL, q.server)
		return nil
	}
	serial, err := c.Serial(ctx, q.zone)
	if err != nil {
		return err
	}
	if err := c.Replace(ctx, q.zone, q.set); err != nil {
		return err
	}
	after, err := c.Query(ctx, q.set.Name, q.set.Type)
	if err != nil {
		return fmt.Errorf("the server accepted the update, but reading it back failed: %w", err)
	}
	if !after.Equal(q.set) {
		return fmt.Errorf("the server accepted the update, but %s now answers %q (ttl %d), not %q (ttl %d): is there other data at the name (a CNAME cannot sit beside other records)?",
			label, after.Values, after.TTL, q.set.Values, q.set.TTL)
	}
	now, err := c.Serial(ctx, q.zone)
	if err != nil {
		return err
	}
	sc.Logf("%s on %s: %s (ttl %d) -> %s (ttl %d); zone serial %d -> %d", label, q.server,
		orNone(before.Values), before.TTL, strings.Join(after.Values, ", "), after.TTL, serial, now)
	if now == serial {
		sc.Logf("warning: the zone serial did not move; secondaries will not transfer the change until it does")
	}
	return nil
}

func orNone(v []string) string {
	if len(v) == 0 {
		return "(none)"
	}
	return strings.Join(v, ", ")
}
