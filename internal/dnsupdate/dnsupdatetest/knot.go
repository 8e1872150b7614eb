package dnsupdatetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// Knot is a real Knot DNS primary (knotd) run for a test.
type Knot struct {
	Addr string // 127.0.0.1:port
	cmd  *exec.Cmd
	done chan struct{}
	log  *testkit.LogBuffer
}

// KnotPath returns the knotd binary, or "" when Knot DNS is not installed
// (Debian: apt-get install knot).
func KnotPath() string {
	if p, err := exec.LookPath("knotd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/knotd"); err == nil {
		return "/usr/sbin/knotd"
	}
	return ""
}

// RequireKnot skips t when knotd is not installed, and fails it instead
// when PHOENIX_REQUIRE_TOOLS=1 (CI, where .ci/run installs knot).
func RequireKnot(t testing.TB) {
	t.Helper()
	testkit.RequireTool(t, "knotd", "knot")
}

// StartKnot runs knotd in dir as the primary of zone, loaded with records
// (zone file lines such as "www 300 IN A 192.0.2.10"), accepting updates
// signed with the hmac-sha256 key called key (base64 secret). It returns
// once the server answers the zone's SOA.
func StartKnot(ctx context.Context, dir, zone, key, secret string, records ...string) (*Knot, error) {
	bin := KnotPath()
	if bin == "" {
		return nil, errors.New("knotd is not installed (apt-get install knot)")
	}
	zone = dns.Fqdn(strings.ToLower(zone))
	for _, d := range []string{"run", "db", "zones"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	body := fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ IN SOA ns1 hostmaster 2026010100 3600 600 86400 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\n%s\n", zone, strings.Join(records, "\n"))
	if err := os.WriteFile(filepath.Join(dir, "zones", zone+"zone"), []byte(body), 0o600); err != nil {
		return nil, err
	}
	port, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`server:
    rundir: %[1]s/run
    user: %[2]s:%[3]s
    listen: 127.0.0.1@%[4]d
database:
    storage: %[1]s/db
control:
    listen: %[1]s/run/knot.sock
log:
  - target: stderr
    any: info
key:
  - id: %[5]s
    algorithm: hmac-sha256
    secret: %[6]s
acl:
  - id: update
    key: %[5]s
    action: update
zone:
  - domain: %[7]s
    storage: %[1]s/zones
    file: %[7]szone
    acl: update
    zonefile-sync: -1
`, dir, u.Username, g.Name, port, dns.Fqdn(key), secret, zone)
	cf := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	k := &Knot{Addr: fmt.Sprintf("127.0.0.1:%d", port), done: make(chan struct{}), log: &testkit.LogBuffer{}}
	k.cmd = exec.Command(bin, "-c", cf)
	k.cmd.Stdout, k.cmd.Stderr = k.log, k.log
	if err := k.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = k.cmd.Wait(); close(k.done) }()
	if err := k.wait(ctx, zone); err != nil {
		k.Close()
		return nil, fmt.Errorf("knotd did not serve %s: %w\n%s", zone, err, k.log)
	}
	return k, nil
}

// wait polls the server for the zone's SOA until it answers.
func (k *Knot) wait(ctx context.Context, zone string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := &dns.Client{Net: "tcp", Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if r, _, err := c.ExchangeContext(ctx, m, k.Addr); err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
			return nil
		}
		select {
		case <-k.done:
			return errors.New("knotd exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close stops knotd and waits for it to exit.
func (k *Knot) Close() {
	_ = k.cmd.Process.Kill()
	<-k.done
}

// Log returns what knotd logged.
func (k *Knot) Log() string { return k.log.String() }
