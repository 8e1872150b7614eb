package swa

import (
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func (v *validator) fallback(n *jnode, f string) *fallback {
	fb := &fallback{}
	ok := true
	v.object(n, f, []string{"exclude", "rewrite"}, true, func(key string, val *jnode, sf string) {
		switch key {
		case "rewrite":
			s, good := v.str(val, sf)
			if !good || s == "" {
				if good {
					v.errf(val, sf, "must not be empty; the usual value is \"/index.html\"")
				}
				ok = false
				return
			}
			fb.rewrite, _ = splitRewrite(s)
			v.checkTarget(val, sf, s)
			v.noteRewrite(val, sf, fb.rewrite, useFallback)
		case "exclude":
			v.strs(val, sf, func(s string, el *jnode, ef string) {
				p, err := compilePattern(s)
				if err != nil {
					v.errf(el, ef, "%v", err)
					return
				}
				fb.exclude = append(fb.exclude, p)
			})
		}
	})
	v.requireKeys(n, f, "rewrite")
	if !ok || fb.rewrite == "" {
		return nil
	}
	return fb
}

var overrideKeys = []string{"redirect", "rewrite", "statusCode"}

func (v *validator) overrides(c *Config, n *jnode, f string) {
	v.object(n, f, nil, true, func(key string, val *jnode, sf string) {
		code, err := strconv.Atoi(key)
		if err != nil || key[0] == '+' || key[0] == '-' {
			v.errf(val, sf, "keys of responseOverrides are status codes such as \"404\", not %q", key)
			return
		}
		slot := overrideSlot(code)
		if slot == 0 {
			v.errf(val, sf, "status %d cannot be overridden; only 400, 401, 403 and 404 can", code)
			return
		}
		o := &override{}
		var statusNode *jnode
		statusOK := false
		v.object(val, sf, overrideKeys, false, func(k string, x *jnode, xf string) {
			switch k {
			case "rewrite":
				if s, ok := v.str(x, xf); ok && s != "" {
					o.rewrite, _ = splitRewrite(s)
					v.checkTarget(x, xf, s)
					v.noteRewrite(x, xf, o.rewrite, useOverride)
				}
			case "redirect":
				if s, ok := v.str(x, xf); ok && s != "" {
					o.redirect = s
					v.checkTarget(x, xf, s)
				}
			case "statusCode":
				statusNode = x
				o.status, statusOK = v.integer(x, xf)
			}
		})
		if val.kind != 'o' {
			return
		}
		if o.rewrite != "" && o.redirect != "" {
			v.errf(val, sf, "\"rewrite\" and \"redirect\" cannot be combined in one override")
		}
		if statusOK {
			v.checkStatus(statusNode, sf+".statusCode", o.status, o.redirect != "")
		}
		if o.rewrite == "" && o.redirect == "" && o.status == 0 {
			v.warnf(val, sf, "the override has no rewrite, redirect or statusCode and changes nothing")
		}
		c.overrides[slot] = o
	})
}

func (v *validator) mimeTypes(n *jnode, f string) map[string]string {
	m := map[string]string{}
	v.object(n, f, nil, true, func(key string, val *jnode, sf string) {
		if len(key) < 2 || key[0] != '.' {
			v.errf(val, sf, "mimeTypes keys are file extensions with a leading dot, e.g. \".md\", not %q", key)
			return
		}
		s, ok := v.str(val, sf)
		if !ok {
			return
		}
		if !strings.Contains(s, "/") || strings.ContainsAny(s, "\r\n\x00") {
			v.errf(val, sf, "%q is not a media type such as \"text/markdown\"", s)
			return
		}
		m[strings.ToLower(key)] = s
	})
	return m
}

var serviceTag = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*$`)

func (v *validator) networking(c *Config, n *jnode, f string) {
	v.object(n, f, []string{"allowedIpRanges"}, true, func(_ string, val *jnode, sf string) {
		v.strs(val, sf, func(s string, el *jnode, ef string) {
			c.ipGate = true
			if p, err := netip.ParsePrefix(s); err == nil {
				if p.Addr().Is6() {
					v.warnf(el, ef, "the cloud documents IPv4 ranges only")
				}
				if p.Masked() != p {
					v.warnf(el, ef, "%s has host bits set; it is read as %s", s, p.Masked())
				}
				c.ipRanges = append(c.ipRanges, p.Masked())
				return
			}
			if a, err := netip.ParseAddr(s); err == nil {
				c.ipRanges = append(c.ipRanges, netip.PrefixFrom(a, a.BitLen()))
				return
			}
			if serviceTag.MatchString(s) && !strings.Contains(s, "/") {
				v.warnf(el, ef, "service tag %q cannot be resolved offline and matches no client address in Phoenix; list its IP ranges instead", s)
				return
			}
			v.errf(el, ef, "%q is neither an IPv4 range in CIDR form (\"10.0.0.0/24\"), an address, nor a service tag", s)
		})
	})
}

func (v *validator) forwarding(c *Config, n *jnode, f string) {
	v.object(n, f, []string{"allowedForwardedHosts", "requiredHeaders"}, true, func(key string, val *jnode, sf string) {
		switch key {
		case "allowedForwardedHosts":
			v.strs(val, sf, func(s string, el *jnode, ef string) {
				if s == "" || strings.ContainsAny(s, "/ \t") {
					v.errf(el, ef, "%q is not a host name", s)
					return
				}
				c.fwdHosts = append(c.fwdHosts, s)
			})
		case "requiredHeaders":
			c.reqHeader = v.headers(val, sf, false)
		}
	})
}

func (v *validator) platform(n *jnode, f string) {
	runtimes := []string{"dotnet:8.0", "dotnet-isolated:8.0", "dotnet-isolated:9.0", "node:18", "node:20", "node:22", "python:3.9", "python:3.10", "python:3.11"}
	v.object(n, f, []string{"apiRuntime"}, true, func(_ string, val *jnode, sf string) {
		if s, ok := v.str(val, sf); ok && !contains(runtimes, s) {
			v.errf(val, sf, "unknown apiRuntime %q (allowed: %s)", s, strings.Join(runtimes, ", "))
		}
	})
}

// shape is a small schema for the auth section: the allowed keys of an
// object with the JSON kind of each ('o' with a sub-shape), and the required
// ones. A nil keys map accepts any key.
type shape struct {
	kind     byte
	keys     map[string]*shape
	required []string
	any      *shape // for maps with arbitrary keys (customOpenIdConnectProviders)
}

var (
	sString  = &shape{kind: 's'}
	sBool    = &shape{kind: 'b'}
	sStrList = &shape{kind: 'a'}
	sFree    = &shape{kind: 'o'}
)

func provider(reg map[string]*shape, required string, login map[string]*shape) *shape {
	keys := map[string]*shape{
		"enabled":          sBool,
		"registration":     {kind: 'o', keys: reg, required: []string{required}},
		"userDetailsClaim": sString,
	}
	if login != nil {
		keys["login"] = &shape{kind: 'o', keys: login}
	}
	return &shape{kind: 'o', keys: keys, required: []string{"registration"}}
}

var authShape = func() *shape {
	scopes := map[string]*shape{"scopes": sStrList}
	aad := provider(map[string]*shape{"openIdIssuer": sString, "clientIdSettingName": sString, "clientSecretSettingName": sString},
		"clientSecretSettingName", map[string]*shape{"loginParameters": sStrList})
	aad.keys["registration"].required = []string{"openIdIssuer", "clientSecretSettingName"}
	idReg := map[string]*shape{"clientIdSettingName": sString, "clientSecretSettingName": sString}
	oidc := &shape{kind: 'o', required: []string{"registration", "login"}, keys: map[string]*shape{
		"enabled": sBool,
		"registration": {kind: 'o', required: []string{"clientCredential", "openIdConnectConfiguration"}, keys: map[string]*shape{
			"clientIdSettingName":        sString,
			"clientCredential":           {kind: 'o', required: []string{"clientSecretSettingName"}},
			"openIdConnectConfiguration": sFree,
		}},
		"login": {kind: 'o', keys: map[string]*shape{"nameClaimType": sString, "scopes": sStrList, "loginParameterNames": sStrList}},
	}}
	return &shape{kind: 'o', required: []string{"identityProviders"}, keys: map[string]*shape{
		"rolesSource": sString,
		"identityProviders": {kind: 'o', keys: map[string]*shape{
			"azureActiveDirectory":         aad,
			"apple":                        provider(idReg, "clientSecretSettingName", scopes),
			"facebook":                     provider(map[string]*shape{"appIdSettingName": sString, "appSecretSettingName": sString}, "appSecretSettingName", scopes),
			"github":                       provider(idReg, "clientSecretSettingName", scopes),
			"google":                       provider(idReg, "clientSecretSettingName", scopes),
			"twitter":                      provider(map[string]*shape{"consumerKeySettingName": sString, "consumerSecretSettingName": sString}, "consumerSecretSettingName", nil),
			"customOpenIdConnectProviders": {kind: 'o', any: oidc},
		}},
	}}
}()

func (v *validator) auth(n *jnode, f string) { v.shape(n, f, authShape) }

func (v *validator) shape(n *jnode, f string, s *shape) {
	if !v.is(n, s.kind, f) {
		return
	}
	switch {
	case s.kind == 'a':
		v.strs(n, f, func(string, *jnode, string) {})
	case s.kind == 'o' && s.any != nil:
		v.object(n, f, nil, true, func(_ string, val *jnode, sf string) { v.shape(val, sf, s.any) })
	case s.kind == 'o' && s.keys != nil:
		v.object(n, f, sortedKeys(s.keys), true, func(k string, val *jnode, sf string) { v.shape(val, sf, s.keys[k]) })
	}
	v.requireKeys(n, f, s.required...)
}

func sortedKeys(m map[string]*shape) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
