package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/activation"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
	"github.com/phoenixvc/phoenix/internal/edge/waf"
	"github.com/phoenixvc/phoenix/internal/edgepolicy"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

type serveOptions struct {
	addr         string
	tlsCert      string
	tlsKey       string
	rateLimit    float64
	trustedHdr   string
	proxies      string
	metricsAllow string
	hsts         time.Duration
	hstsSub      bool
	notFoundPage string
	loops        loopsFlag
	idle         time.Duration
	maxConns     int
	config       string
	geoIPDB      string
	noCompress   bool
	access       accessLogFlags // server_accesslog.go
}

func newServeCmd(g *Globals) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve DIR",
		Short: "Serve a folder with Azure Static Web Apps semantics, no server needed",
		Long: `Serve a built folder the way the edge serves a deployment, like 'swa start':
its staticwebapp.config.json routes, rewrites, redirects, headers, roles and
navigation fallback apply, with precompressed variants (x.js.gz, x.js.br),
ETags, ranges and cache headers. No data dir, store or server is involved.
Text-like files without such siblings get br and gzip variants made in the
background into a temporary folder (never into DIR), as a deploy would;
--no-compress turns that off.`,
		Example: `  phoenix serve dist
  phoenix serve dist --addr 127.0.0.1:4280
  phoenix serve dist --tls-cert cert.pem --tls-key key.pem --hsts 8760h
  phoenix serve dist --config phoenix.yaml       # with the project's edge policy: headers, rate limit, WAF
  phoenix serve dist --access-log -              # one JSON line per request on standard output`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runServe(cmd.Context(), g, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate chain; with --tls-key serves HTTPS and HTTP/2")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key")
	f.Float64Var(&o.rateLimit, "rate-limit", 0, "requests per second allowed per client IP (0: off)")
	f.StringVar(&o.proxies, "trusted-proxies", "", trustedProxiesHelp)
	f.StringVar(&o.metricsAllow, "metrics-allow", "", metricsAllowHelp)
	f.StringVar(&o.trustedHdr, "trusted-principal-header", "", "take the user from this header (x-ms-client-principal shape); only behind a trusted proxy")
	durationVar(f, &o.hsts, "hsts", 0, "send Strict-Transport-Security with this max-age on answers over HTTPS (0: off)")
	f.BoolVar(&o.hstsSub, "hsts-include-subdomains", false, hstsSubHelp)
	f.StringVar(&o.notFoundPage, "not-found-page", "/404.html", "page served with 404 when the rules name none")
	f.StringVar(&o.config, "config", "", "apply this phoenix.yaml's edge: section (header rules, rate limit, WAF) as the server would")
	f.StringVar(&o.geoIPDB, "geoip-db", "", "MaxMind country database for --config's edge.waf geo lists")
	addAccessLogFlags(f, &o.access, "")
	f.Var(&o.loops, "loops", loopsHelp)
	durationVar(f, &o.idle, "idle-timeout", 2*time.Minute, idleTimeoutHelp)
	f.IntVar(&o.maxConns, "max-conns-per-ip", 0, maxConnsHelp)
	f.BoolVar(&o.noCompress, "no-compress", false, "serve files without precompressed siblings uncompressed (no br/gzip variants made in the background)")
	return cmd
}

func runServe(ctx context.Context, g *Globals, o *serveOptions, dir string) error {
	if err := checkFolder(dir, "give the folder to serve, e.g. the build's dist"); err != nil {
		return err
	}
	name := g.flagOrEnv // a refused value names its flag, or the PHOENIX_* variable that gave it
	if err := checkTLSFiles(name("tls-cert"), o.tlsCert, name("tls-key"), o.tlsKey); err != nil {
		return err
	}
	if err := checkIdleTimeout(name("idle-timeout"), o.idle); err != nil {
		return err
	}
	if err := checkMaxConns(name("max-conns-per-ip"), o.maxConns); err != nil {
		return err
	}
	proxies, err := parseRanges(name("trusted-proxies"), o.proxies)
	if err != nil {
		return err
	}
	metricsAllow, err := parseRanges(name("metrics-allow"), o.metricsAllow)
	if err != nil {
		return err
	}
	policy, closeGeo, err := servePolicy(o, name)
	if err != nil {
		return err
	}
	defer closeGeo()
	log := newLogger(g.Stderr, false)
	alog, closeLog, err := o.access.open(log, name)
	if err != nil {
		return err
	}
	defer closeLog()
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	socks, err := activation.Listeners() // under a systemd socket unit: its "edge" socket
	if err != nil {
		return usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("give the socket FileDescriptorName=edge; docs/operations.md")
	}
	ln := socks[app.SocketEdge]
	for name, l := range socks {
		if l != ln {
			return usererr.New(usererr.Usage, "systemd passed a socket named %q; phoenix serve serves one named edge", name).
				WithHint("FileDescriptorName=edge in the .socket unit")
		}
	}
	opts := edge.ServeOptions{Listener: ln,
		Handler: edge.Options{RateLimit: o.rateLimit, TrustedPrincipalHeader: o.trustedHdr, TrustedProxies: proxies, MetricsAllow: metricsAllow,
			Headers: edge.SecurityHeaders(edge.HSTS{MaxAge: o.hsts, IncludeSubdomains: o.hstsSub}), NotFoundPage: o.notFoundPage, Logger: log, AccessLog: alog},
		TLSCertFile: o.tlsCert, TLSKeyFile: o.tlsKey, Loops: int(o.loops), IdleTimeout: o.idle, MaxConnsPerIP: o.maxConns, Policy: policy,
		Warn:       func(p swa.Problem) { fmt.Fprintf(g.Stderr, "warning: %s\n", p) },
		NoCompress: o.noCompress,
		Ready: func(addr net.Addr) {
			fmt.Fprintf(g.Stdout, "serving %s at %s://%s/ (Ctrl-C to stop)\n", dir, scheme, addr)
		},
	}
	return serveError(edge.ServeDir(ctx, dir, o.addr, opts), name("addr"), o.addr)
}

// serveError makes the errors of a folder to fix or an address to change
// usage errors (exit code 2, as phoenix validate and phoenix server give
// for them), with a hint: a staticwebapp.config.json with problems, an
// address that cannot be listened on.
func serveError(err error, addrFlag, addr string) error {
	var ps swa.Problems
	var op *net.OpError
	switch {
	case err == nil || usererr.KindOf(err) != usererr.Internal:
		return err
	case errors.As(err, &ps):
		return usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("fix the file; phoenix validate lists every problem")
	case errors.As(err, &op) && op.Op == "listen":
		return usererr.Wrap(usererr.Usage, err, fmt.Sprintf("cannot listen on %s (%s): %v", addr, addrFlag, op.Err)).
			WithHint("pick another address with %s", addrFlag)
	}
	return err
}

// checkFolder returns a usage error with hint unless dir is a folder.
func checkFolder(dir, hint string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usererr.New(usererr.Usage, "folder %s does not exist", dir).WithHint("%s", hint)
	case err != nil:
		return usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("%s", hint)
	case !fi.IsDir():
		return usererr.New(usererr.Usage, "%s is not a folder", dir).WithHint("%s", hint)
	}
	return nil
}

// loopsFlag is --loops and --edge-loops: a number of event loops, or auto
// (0, stored as such: edge.Loops picks one loop per two cores).
type loopsFlag int

// hstsSubHelp describes --hsts-include-subdomains.
const hstsSubHelp = "with --hsts, add includeSubDomains: browsers refuse plain HTTP on every subdomain too"

// loopsHelp describes --loops and --edge-loops.
const loopsHelp = "event loops (threads) serving plain HTTP on Linux: a number, or auto for one per two cores"

func (l *loopsFlag) String() string {
	if *l == 0 {
		return "auto"
	}
	return strconv.Itoa(int(*l))
}

func (l *loopsFlag) Set(v string) error {
	if v == "auto" {
		*l = 0
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("%q is not a number of event loops: give auto, or a whole number of at least 1 (one loop per core the edge may use)", v)
	}
	*l = loopsFlag(n)
	return nil
}

func (l *loopsFlag) Type() string { return "n|auto" }

// idleTimeoutHelp describes --idle-timeout and --edge-idle-timeout.
const idleTimeoutHelp = "close keep-alive connections idle this long (each idle HTTPS connection holds ~40 KB)"

// maxConnsHelp describes --max-conns-per-ip and --edge-max-conns-per-ip.
const maxConnsHelp = "close new connections of a client (an address, IPv6 by /64) holding this many open (0: no cap; trusted proxies are not counted)"

// checkMaxConns refuses a negative connection cap.
func checkMaxConns(flag string, n int) error {
	if n < 0 {
		return usererr.New(usererr.Usage, "%s must be 0 or more, not %d", flag, n).
			WithHint("give the most connections one client may hold open, e.g. %s 256, or 0 for no cap", flag)
	}
	return nil
}

// checkIdleTimeout refuses an idle timeout under one second.
func checkIdleTimeout(flag string, d time.Duration) error {
	if d < time.Second {
		return usererr.New(usererr.Usage, "%s must be at least 1s, not %s", flag, d).
			WithHint("browsers reuse a connection for the next page's requests; 2m is the default, nginx's keepalive_timeout is 75s")
	}
	return nil
}

// servePolicy reads --config's edge: section into the policy the folder
// is served with (nil without --config), opening --geoip-db for its geo
// lists; the returned function closes the database. A refused value is
// named by name (Globals.flagOrEnv).
func servePolicy(o *serveOptions, name func(flag string) string) (*edge.Policy, func(), error) {
	none := func() {}
	if o.config == "" {
		if o.geoIPDB != "" {
			return nil, none, usererr.New(usererr.Usage, "%s needs --config", name("geoip-db")).
				WithHint("the GeoIP database serves the geo lists of a phoenix.yaml's edge.waf")
		}
		return nil, none, nil
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return nil, none, usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("check it with phoenix validate")
	}
	var geo *waf.GeoDB
	if o.geoIPDB != "" {
		if geo, err = waf.OpenGeoDB(o.geoIPDB); err != nil {
			return nil, none, usererr.Wrap(usererr.Usage, err, name("geoip-db")+": "+err.Error())
		}
		none = func() { geo.Close() }
	}
	p, err := edgepolicy.Build(&cfg.Edge, geo)
	if err != nil {
		none()
		return nil, func() {}, usererr.Wrap(usererr.Usage, err, o.config+": "+err.Error())
	}
	return p, none, nil
}
