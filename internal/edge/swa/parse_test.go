package swa

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		json string
		warn string // substring expected in one warning; "" for none
	}{
		{"empty object", `{}`, ""},
		{"schema key", `{"$schema":"https://json.schemastore.org/staticwebapp.config.json"}`, ""},
		{"bom", "\xef\xbb\xbf{}", ""},
		{"full", `{
  "routes": [
    {"route": "/login", "rewrite": "/.auth/login/aad"},
    {"route": "/sso", "redirect": "/.auth/login/oidc?post_login_redirect_uri=/me"},
    {"route": "/out", "redirect": "https://example.org/.auth/login/github"},
    {"route": "/old", "redirect": "/new", "statusCode": 301},
    {"route": "/admin*", "allowedRoles": ["admin"], "methods": ["GET", "HEAD"]},
    {"route": "/images/*.{png,jpg}", "headers": {"cache-control": "max-age=60"}},
    {"route": "/teapot", "rewrite": "/a.html", "statusCode": 418}
  ],
  "navigationFallback": {"rewrite": "index.html", "exclude": ["/assets/*", "*.{css,js}", "assets/*"]},
  "responseOverrides": {"401": {"redirect": "/.auth/login/aad?post_login_redirect_uri=.referrer", "statusCode": 302},
                        "404": {"rewrite": "/404.html"}},
  "globalHeaders": {"X-Frame-Options": "DENY"},
  "mimeTypes": {".md": "text/markdown"},
  "networking": {"allowedIpRanges": ["10.0.0.0/8", "192.168.1.7"]},
  "forwardingGateway": {"allowedForwardedHosts": ["example.org"], "requiredHeaders": {"X-Azure-FDID": "abc"}},
  "auth": {"rolesSource": "/api/roles", "identityProviders": {"github": {"registration": {"clientIdSettingName": "ID", "clientSecretSettingName": "SECRET"}}}},
  "platform": {"apiRuntime": "node:20"},
  "trailingSlash": "auto"
}`, ""},
		{"redirect 308 warns", `{"routes":[{"route":"/a","redirect":"/b","statusCode":308}]}`, "only 301 and 302"},
		{"service tag warns", `{"networking":{"allowedIpRanges":["AzureFrontDoor.Backend"]}}`, "service tag"},
		{"duplicate exact route warns", `{"routes":[{"route":"/a"},{"route":"/A"}]}`, "repeats an earlier route"},
		{"redirect loop warns", `{"routes":[{"route":"/News","redirect":"/news"}]}`, "loop"},
		{"override unknown key warns", `{"responseOverrides":{"404":{"rewrite":"/x.html","serve":"/y"}}}`, "unknown key"},
		{"duplicate key warns", `{"trailingSlash":"auto","trailingSlash":"never"}`, "duplicate key"},
		{"methods restrict coverage", `{"routes":[{"route":"/*","methods":["POST"]},{"route":"/a"}]}`, ""},
		{"route without slash warns", `{"routes":[{"route":"about"}]}`, "does not start with '/'"},
		{"framing header warns", `{"globalHeaders":{"transfer-encoding":"chunked"}}`, `globalHeaders["transfer-encoding"]: Transfer-Encoding is written by the edge`},
		{"hop-by-hop route header warns", `{"routes":[{"route":"/a","headers":{"Connection":"close"}}]}`, `routes[0].headers.Connection: Connection is written by the edge`},
		{"required header may be any", `{"forwardingGateway":{"requiredHeaders":{"Upgrade":"x"}}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.json), "cfg.json")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			ws := c.Warnings()
			if tt.warn == "" && len(ws) > 0 {
				t.Fatalf("unexpected warnings: %v", ws)
			}
			if tt.warn != "" && !strings.Contains(Problems(ws).Error(), tt.warn) {
				t.Fatalf("warnings %q lack %q", Problems(ws).Error(), tt.warn)
			}
		})
	}
}

// TestParseWarnsOfLoginProvidersPhoenixLacks: a rewrite or redirect to
// /.auth/login/<provider> for a provider other than aad and oidc is
// accepted (Azure accepts it) with a warning at its line naming the
// providers there are; the served ones, external URLs and the /.auth
// routes that are no login pass quietly.
func TestParseWarnsOfLoginProvidersPhoenixLacks(t *testing.T) {
	cfg := `{
  "routes": [
    {"route": "/login", "rewrite": "/.auth/login/github"},
    {"route": "/tw", "redirect": "/.auth/login/twitter?post_login_redirect_uri=/x"},
    {"route": "/aad", "rewrite": ".auth/login/aad"},
    {"route": "/ext", "redirect": "https://login.example.org/.auth/login/github"},
    {"route": "/bye", "redirect": "/.auth/logout"},
    {"route": "/upper", "redirect": "/.AUTH/login/aad"}
  ],
  "navigationFallback": {"rewrite": "/.auth/login/google"},
  "responseOverrides": {
    "401": {"redirect": "/.auth/login/github?post_login_redirect_uri=.referrer", "statusCode": 302},
    "403": {"rewrite": "/.auth/login/oidc"}
  }
}`
	c, err := Parse([]byte(cfg), "staticwebapp.config.json")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var got []string
	for _, w := range c.Warnings() {
		got = append(got, w.String())
	}
	const tail = " (it answers 404; Azure accepts it): its providers are aad and oidc, the server's single sign-on (phoenix server --oidc-issuer); use /.auth/login/aad"
	want := []string{
		`staticwebapp.config.json:3:36: routes[0].rewrite: /.auth/login/github: Phoenix's edge serves no login provider "github"` + tail,
		`staticwebapp.config.json:4:34: routes[1].redirect: /.auth/login/twitter: Phoenix's edge serves no login provider "twitter"` + tail,
		`staticwebapp.config.json:8:37: routes[5].redirect: /.AUTH/login/aad: Phoenix's edge serves no login provider "aad"` + tail,
		`staticwebapp.config.json:10:37: navigationFallback.rewrite: /.auth/login/google: Phoenix's edge serves no login provider "google"` + tail,
		`staticwebapp.config.json:12:25: responseOverrides["401"].redirect: /.auth/login/github: Phoenix's edge serves no login provider "github"` + tail,
	}
	slices.Sort(got) // routes are checked after the other sections
	slices.Sort(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []string // each must appear in the error text, in order of problems
	}{
		{"syntax", "{\n  \"routes\": [\n    {\"route\": \"/a\" \"b\"}\n  ]\n}", []string{"cfg.json:3:20: invalid JSON"}},
		{"trailing comma in an object", "{\n  \"routes\": [\n    {\"route\": \"/a\",}\n  ]\n}", []string{"cfg.json:3:19: invalid JSON: a comma before the closing }; JSON allows none there (remove it)"}},
		{"trailing comma in an array", "{\"routes\": [\n  {\"route\": \"/a\"},\n  ]\n}", []string{"cfg.json:2:18: invalid JSON: a comma before the closing ]; JSON allows none there (remove it)"}},
		{"comma first is not trailing", `{"routes": [,]}`, []string{"cfg.json:1:13: invalid JSON: invalid character ','"}},
		{"truncated", `{"routes": [`, []string{"cfg.json:1:13: invalid JSON: the file ends inside an array: a ']' is missing (it opens at line 1, column 12; is the file cut short?)"}},
		{"truncated inner object", "{\n \"routes\": [\n  {\"route\": \"/a\"", []string{"cfg.json:3:17: invalid JSON: the file ends inside an object: a '}' is missing (it opens at line 3, column 3;"}},
		{"truncated string", `{"a": "abc`, []string{"cfg.json:1:7: invalid JSON: the file ends inside an object: a '}' is missing (it opens at line 1, column 1;"}},
		{"empty", " \n", []string{"invalid JSON: the file is empty; it must hold one JSON object, at least {}"}},
		{"trailing data", `{} {}`, []string{"cfg.json:1:4: invalid JSON: unexpected data"}},
		{"not an object", `[]`, []string{"must be an object, not an array"}},
		{"unknown top key", "{\n \"route\": []\n}", []string{`cfg.json:2:2: route: unknown key "route"`}},
		{"case typo key", `{"Routes": []}`, []string{`did you mean "routes"?`}},
		{"wildcard middle", `{"routes":[{"route":"/a/*/b"}]}`, []string{"routes[0].route: a wildcard"}},
		{"two wildcards", `{"routes":[{"route":"/a*/*"}]}`, []string{"routes[0].route: a wildcard"}},
		{"bad ext", `{"routes":[{"route":"/a/*.{png"}]}`, []string{"extension list"}},
		{"host in route", `{"routes":[{"route":"https://x.com/*"}]}`, []string{"not a URL"}},
		{"missing route", `{"routes":[{"rewrite":"/x"}]}`, []string{`routes[0]: missing required key "route"`}},
		{"rewrite and redirect", `{"routes":[{"route":"/a","rewrite":"/b","redirect":"/c"}]}`, []string{"cannot be combined"}},
		{"string status", `{"routes":[{"route":"/a","statusCode":"404"}]}`, []string{"routes[0].statusCode: must be a number, not a string (write 404 without quotes)"}},
		{"bad redirect status", `{"routes":[{"route":"/a","redirect":"/b","statusCode":200}]}`, []string{"needs statusCode 301 or 302"}},
		{"3xx without redirect", `{"routes":[{"route":"/a","statusCode":301}]}`, []string{"needs a \"redirect\""}},
		{"status out of range", `{"routes":[{"route":"/a","statusCode":999}]}`, []string{"not an HTTP status"}},
		{"covered by wildcard", "{\"routes\":[\n{\"route\":\"/*\",\"allowedRoles\":[\"authenticated\"]},\n{\"route\":\"/images/*\"}]}",
			[]string{`cfg.json:3:1: routes[1].route: a route is covered up by a wildcard route`, `wildcard "/*" (line 2)`}},
		{"covered case-insensitive", `{"routes":[{"route":"/appA/*"},{"route":"/AppA/*"}]}`, []string{"covered up"}},
		{"covered auth", `{"routes":[{"route":"/*","rewrite":"/index.html"},{"route":"/.auth/login/aad","statusCode":404}]}`, []string{"covered up"}},
		{"covered ext", `{"routes":[{"route":"/img/*.{png,jpg}"},{"route":"/img/a/*.png"}]}`, []string{"covered up"}},
		{"bad method", `{"routes":[{"route":"/a","methods":["get"]}]}`, []string{`unknown method "get"`, "upper case"}},
		{"bad role", `{"routes":[{"route":"/a","allowedRoles":["a-b"]}]}`, []string{"role names"}},
		{"unknown route key", `{"routes":[{"route":"/a","serve":"/b"}]}`, []string{`routes[0].serve: unknown key "serve"`}},
		{"override code", `{"responseOverrides":{"500":{"rewrite":"/e.html"}}}`, []string{"cannot be overridden"}},
		{"override key", `{"responseOverrides":{"abc":{}}}`, []string{"status codes"}},
		{"mime key", `{"mimeTypes":{"md":"text/markdown"}}`, []string{"leading dot"}},
		{"mime value", `{"mimeTypes":{".md":"markdown"}}`, []string{"not a media type"}},
		{"trailing slash", `{"trailingSlash":"sometimes"}`, []string{`must be "auto"`}},
		{"ip range", `{"networking":{"allowedIpRanges":["10.0.0.0/33"]}}`, []string{"neither an IPv4 range"}},
		{"fallback needs rewrite", `{"navigationFallback":{"exclude":["/a/*"]}}`, []string{`missing required key "rewrite"`}},
		{"fallback exclude", `{"navigationFallback":{"rewrite":"/i.html","exclude":["/a/*/b"]}}`, []string{"navigationFallback.exclude[0]"}},
		{"header value type", `{"globalHeaders":{"X-A":1}}`, []string{`globalHeaders["X-A"]: must be a string`}},
		{"header name", `{"globalHeaders":{"X A":"1"}}`, []string{"not a valid header name"}},
		// A line break in a redirect went out as "Location: /a  X-Evil: 1".
		{"redirect with a line break", `{"routes":[{"route":"/x","redirect":"/a\r\nX-Evil: 1"}]}`,
			[]string{`cfg.json:1:37: routes[0].redirect: "/a\r\nX-Evil: 1" holds a control character ('\r')`, "%0A"}},
		{"rewrite query with a tab", `{"routes":[{"route":"/x","rewrite":"/a.html?q=\t"}]}`, []string{"routes[0].rewrite", "control character"}},
		{"override redirect with a NUL", `{"responseOverrides":{"404":{"redirect":"/a\u0000"}}}`, []string{`responseOverrides["404"].redirect`, "control character"}},
		{"fallback with a line break", `{"navigationFallback":{"rewrite":"/index.html\n"}}`, []string{"navigationFallback.rewrite", "control character"}},
		{"auth required", `{"auth":{"rolesSource":"/api/r"}}`, []string{`missing required key "identityProviders"`}},
		{"auth unknown provider key", `{"auth":{"identityProviders":{"github":{"registration":{"clientSecretSettingName":"S","secret":"x"}}}}}`, []string{`auth.identityProviders.github.registration.secret: unknown key`}},
		{"platform", `{"platform":{"apiRuntime":"node:8"}}`, []string{"unknown apiRuntime"}},
		{"all at once", `{"trailingSlash":1,"routes":[{"route":"/a/*/b"},{"route":"/c","statusCode":"x"}],"bogus":true}`,
			[]string{"trailingSlash: must be a string", "routes[0].route", "bogus: unknown key", "routes[1].statusCode"}},
		{"covered route with other errors", `{"routes":[{"route":"/*"},{"route":"/x","statusCode":"404"}]}`,
			[]string{"routes[1].route: a route is covered up", "routes[1].statusCode: must be a number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.json), "cfg.json")
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", c)
			}
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			text := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("error lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	big := `{"globalHeaders":{"X-Pad":"` + strings.Repeat("a", MaxConfigSize) + `"}}`
	_, err := Parse([]byte(big), "big.json")
	if err == nil || !strings.Contains(err.Error(), "at most 20480") {
		t.Fatalf("want size error, got %v", err)
	}
}

func TestParseTooManyRoles(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"routes":[{"route":"/a","allowedRoles":[`)
	for i := 0; i <= MaxRoles; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"r` + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `"`)
	}
	b.WriteString(`]}]}`)
	_, err := Parse([]byte(b.String()), "roles.json")
	if err == nil || !strings.Contains(err.Error(), "distinct roles") {
		t.Fatalf("want roles error, got %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadDir(dir)
	if err != nil || c == nil {
		t.Fatalf("LoadDir without config: %v", err)
	}
	p := filepath.Join(dir, FileName)
	if err := os.WriteFile(p, []byte(`{"routes":[{"route":"/a/*/b"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), p+":1:21: routes[0].route") {
		t.Fatalf("want positioned error naming %s, got %v", p, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want ErrNotExist, got %v", err)
	}
}

func TestParseOneProblemPerBadStatus(t *testing.T) {
	_, err := Parse([]byte(`{"routes":[{"route":"/x","statusCode":"404"}]}`), "c.json")
	if err == nil || strings.Count(err.Error(), "statusCode") != 1 {
		t.Fatalf("want exactly one statusCode problem, got %v", err)
	}
}
