package swa

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// caseFile is testdata/cases/<site>.json; the same file is the oracle's
// cases.json (the probe ignores the extra fields).
type caseFile struct {
	Site  string     `json:"site"`
	Cases []confCase `json:"cases"`
}

type confCase struct {
	ID       string            `json:"id"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Roles    []string          `json:"roles"`
	Headers  map[string]string `json:"headers"`
	ClientIP string            `json:"client_ip"`
	Expect   struct {
		Status      int               `json:"status"`
		File        string            `json:"file"`
		Location    string            `json:"location"`
		Headers     map[string]string `json:"headers"`
		ContentType string            `json:"content_type"`
		AuthPath    string            `json:"auth_path"`
		APIPath     string            `json:"api_path"`
	} `json:"expect"`
	Emulator string `json:"emulator"` // "same", or "differs: why"
}

// memFS is a FileSystem over a fixed set of paths.
type memFS map[string]bool

func (m memFS) Exists(p string) bool { return m[p] }

func loadSite(t testing.TB, site string) (*Config, memFS) {
	t.Helper()
	dir := filepath.Join("testdata", "sites", site)
	files := memFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files["/"+filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("site %s: %v", site, err)
	}
	return cfg, files
}

func loadCases(t testing.TB) []caseFile {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	var out []caseFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var cf caseFile
		if err := json.Unmarshal(data, &cf); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, cf)
	}
	return out
}

// request builds the Request the edge would hand to Decide.
func (c *confCase) request(t testing.TB) *Request {
	t.Helper()
	raw, q, _ := strings.Cut(c.Path, "?")
	p, err := url.PathUnescape(raw)
	if err != nil {
		t.Fatalf("%s: bad path: %v", c.ID, err)
	}
	r := &Request{Method: c.Method, Path: p, RawQuery: q, Header: http.Header{}, Roles: c.Roles}
	if r.Method == "" {
		r.Method = "GET"
	}
	if r.Roles == nil {
		r.Roles = []string{"anonymous"}
	}
	for k, v := range c.Headers {
		r.Header.Set(k, v)
	}
	ip := c.ClientIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	r.ClientIP = netip.MustParseAddr(ip)
	return r
}

func headerValue(h http.Header, name string) string {
	return h.Get(name)
}

func TestConformance(t *testing.T) {
	total := 0
	sites := map[string]bool{}
	for _, cf := range loadCases(t) {
		cfg, files := loadSite(t, cf.Site)
		sites[cf.Site] = true
		for _, c := range cf.Cases {
			total++
			t.Run(cf.Site+"/"+c.ID, func(t *testing.T) {
				d := cfg.Decide(c.request(t), files)
				e := c.Expect
				check := func(what string, got, want any) {
					if got != want {
						t.Errorf("%s %s: %s = %v, want %v (decision %+v)", c.Method, c.Path, what, got, want, d)
					}
				}
				check("status", d.Status, e.Status)
				check("file", d.File, e.File)
				check("location", d.Location, e.Location)
				check("auth path", d.AuthPath, e.AuthPath)
				check("api path", d.APIPath, e.APIPath)
				if e.ContentType != "" || d.ContentType != "" {
					check("content type", d.ContentType, e.ContentType)
				}
				for name, want := range e.Headers {
					got := headerValue(d.Header, name)
					if strings.EqualFold(name, "content-type") {
						got = d.ContentType
					}
					check("header "+name, got, want)
				}
			})
		}
	}
	if total < 150 || len(sites) < 6 {
		t.Fatalf("the suite shrank: %d cases over %d sites", total, len(sites))
	}
}
