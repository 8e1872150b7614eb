package monitor

import (
	"context"
	"errors"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
)

// dns resolves the name in a dns://[server]/name?type=A URL. The answers,
// sorted and one per line, are the body conditions see; the first address
// is [IP].
func (p *Prober) dns(ctx context.Context, t Target, o *observed) error {
	u, _ := url.Parse(t.URL)
	name := strings.Trim(u.Path, "/")
	if name == "" {
		return errors.New("dns: the URL names no host, e.g. dns://127.0.0.1:53/www.example.com?type=A")
	}
	r := net.DefaultResolver
	if u.Host != "" {
		server := u.Host
		if _, _, err := net.SplitHostPort(server); err != nil {
			server = net.JoinHostPort(server, "53")
		}
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return p.dialer.DialContext(ctx, network, server)
		}}
	}
	start := time.Now()
	answers, err := lookup(ctx, r, strings.ToUpper(u.Query().Get("type")), name)
	o.elapsed = time.Since(start)
	if err != nil {
		return err
	}
	if len(answers) == 0 {
		return errors.New("dns: no answer")
	}
	sort.Strings(answers)
	o.connected, o.body, o.ip = true, []byte(strings.Join(answers, "\n")), answers[0]
	return nil
}

func lookup(ctx context.Context, r *net.Resolver, typ, name string) ([]string, error) {
	var out []string
	switch typ {
	case "", "A", "AAAA":
		network := map[string]string{"": "ip", "A": "ip4", "AAAA": "ip6"}[typ]
		ips, err := r.LookupIP(ctx, network, name)
		for _, ip := range ips {
			out = append(out, ip.String())
		}
		return out, err
	case "CNAME":
		c, err := r.LookupCNAME(ctx, name)
		return []string{c}, err
	case "TXT":
		return r.LookupTXT(ctx, name)
	case "MX":
		mx, err := r.LookupMX(ctx, name)
		for _, m := range mx {
			out = append(out, m.Host)
		}
		return out, err
	case "NS":
		ns, err := r.LookupNS(ctx, name)
		for _, n := range ns {
			out = append(out, n.Host)
		}
		return out, err
	}
	return nil, errors.New("dns: type " + typ + " is not A, AAAA, CNAME, TXT, MX or NS")
}
