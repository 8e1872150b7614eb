package web

import (
	"io/fs"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// externalURL finds anything that would load from another origin: an
// absolute or scheme-relative URL.
var externalURL = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9-]+(\.[a-z0-9-]+)+|https?:`)

// inline finds inline code the CSP would block: style elements and
// attributes, event handler attributes, javascript: URLs, and script
// elements with a body.
var inline = regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:|<script(\s[^>]*)?>[^<]`)

var scriptTag = regexp.MustCompile(`(?i)<script[^>]*>`)

func embedded(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, fsys := range []fs.FS{templateFS, staticFS} {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			files[p] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 5 {
		t.Fatalf("only %d embedded files: %v", len(files), files)
	}
	return files
}

func TestAssetsLoadNothingFromElsewhereAndHaveNoInlineCode(t *testing.T) {
	for name, body := range embedded(t) {
		// An SVG names its XML namespace with a URL that nothing loads.
		body = strings.ReplaceAll(body, `xmlns="http://www.w3.org/2000/svg"`, "")
		if m := externalURL.FindString(body); m != "" {
			t.Errorf("%s: external URL %q", name, m)
		}
		if strings.HasSuffix(name, ".html") {
			if m := inline.FindString(body); m != "" {
				t.Errorf("%s: inline code %q", name, m)
			}
			for _, tag := range scriptTag.FindAllString(body, -1) {
				if !strings.Contains(tag, `src="/ui/static/`) {
					t.Errorf("%s: script not from the dashboard's assets: %s", name, tag)
				}
			}
		}
	}
}

func TestTheScannersCatchWhatTheyLookFor(t *testing.T) {
	for _, bad := range []string{`<link href="https://cdn.example.com/x.css">`, `<img src="//cdn.example.com/a.png">`,
		`@import url(http://x.io/a.css);`} {
		if !externalURL.MatchString(bad) {
			t.Errorf("externalURL misses %s", bad)
		}
	}
	for _, bad := range []string{`<style>`, `<p style="x">`, `<a onclick="x()">`, `<a href="javascript:x">`, `<script>x()</script>`,
		`<script type="module">x()</script>`} {
		if !inline.MatchString(bad) {
			t.Errorf("inline misses %s", bad)
		}
	}
	for _, ok := range []string{`<script src="/ui/static/app.js" defer></script>`, `// a comment`, `<a href="/ui/runs">`} {
		if externalURL.MatchString(ok) || inline.MatchString(ok) {
			t.Errorf("false alarm on %s", ok)
		}
	}
}

func TestEveryPageTemplateParses(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"login", "error", "overview", "environment", "runs", "run", "alerts", "audit"} {
		if p.sets[name] == nil {
			t.Errorf("no page %s", name)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/ui/runs?x=1", "//evil.example", "/\\evil", "https://x", "/%2F%2Fevil", "/api/v1/me",
		"/ui/login", "/a\r\nb", "/ui/../..//x", "/@evil.example", "/ui/runs#frag"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") ||
			strings.ContainsAny(got, "\\\r\n\t\x00") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || u.User != nil {
			t.Fatalf("safeNext(%q) = %q leaves the dashboard (%v)", next, got, err)
		}
		for _, p := range apiPrefixes {
			if strings.HasPrefix(u.Path, p) {
				t.Fatalf("safeNext(%q) = %q goes to the API", next, got)
			}
		}
		if safeNext(got) != got {
			t.Fatalf("safeNext is not stable on %q: %q then %q", next, got, safeNext(got))
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"limit=10&cursor=5", "status=failed&project=shop", "limit=0", "limit=-1", "cursor=99999999999999999999",
		"project=%00", "status=bogus", "actor=a&actor=b", "since=24h", "x=1&limit=1000"} {
		f.Add(s)
	}
	params := append(append([]param{}, runsQuery...), auditQuery...)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		out, err := parseQuery(q, params)
		if err != nil {
			ae, ok := err.(*apiError)
			if !ok || ae.Status != 400 || !strings.HasPrefix(ae.Message, "query parameter ") {
				t.Fatalf("parseQuery(%q): %v", raw, err)
			}
			return
		}
		for k, vs := range out {
			var p *param
			for i := range params {
				if params[i].name == k {
					p = &params[i]
				}
			}
			if p == nil || len(vs) != 1 || p.check(vs[0]) != "" {
				t.Fatalf("parseQuery(%q) passed on %s=%q", raw, k, vs)
			}
		}
		again, err := parseQuery(out, params)
		if err != nil || again.Encode() != out.Encode() {
			t.Fatalf("not stable: %q -> %q -> %q (%v)", raw, out.Encode(), again.Encode(), err)
		}
	})
}

// confirmTag is the element a data-confirm attribute is on.
var confirmTag = regexp.MustCompile(`<([a-z]+)\s[^>]*data-confirm=`)

// TestConfirmationsAreOnButtons: app.js asks the question of the submit
// button that sent the form; one put on any other element (the token
// list's Revoke had it on its form) is never asked.
func TestConfirmationsAreOnButtons(t *testing.T) {
	n := 0
	for name, body := range embedded(t) {
		for _, m := range confirmTag.FindAllStringSubmatch(body, -1) {
			if n++; m[1] != "button" {
				t.Errorf("%s: data-confirm on <%s>, which app.js never reads", name, m[1])
			}
		}
	}
	if n == 0 {
		t.Fatal("no data-confirm in the templates")
	}
}
