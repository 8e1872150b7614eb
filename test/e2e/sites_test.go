package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSitesDomainAndLiveEnvironmentChanges: with --sites-domain a preview
// deployed by phoenix deploy answers at its public name and the command
// prints that URL; an allow-list put on the environment through the API
// closes the live edge at once, and taking it off opens it again, with no
// deployment in between; a custom domain under the sites domain is
// refused.
func TestSitesDomainAndLiveEnvironmentChanges(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	s := startServerWith(t, data, nil, "--sites-domain", "Apps.Example.NET.")
	writeSite(t, filepath.Join(work, "site"), "sites-build")
	enablePreviews(t, work)
	env := []string{"PHOENIX_DATA=" + data}
	r := run(t, work, env, "deploy", "site", "--preview", "feature/Login", "--project", "shop")
	const host = "preview-feature-login.shop.apps.example.net"
	if r.code != 0 || !strings.Contains(r.stdout, "http://"+host+":") {
		t.Fatalf("preview deploy: %+v", r)
	}
	if code, body := s.get(t, host, "/"); code != 200 || !strings.Contains(body, "sites-build") {
		t.Fatalf("%s: %d %q", host, code, body)
	}
	envPath := "/api/v1/projects/shop/environments/preview-feature-login"
	s.client(t).put(t, envPath, `{"kind":"preview","ip_allow":["192.0.2.0/24"]}`)
	if code, _ := s.get(t, host, "/"); code != 403 {
		t.Fatalf("after the allow-list was put: %d, want 403 at once", code)
	}
	s.client(t).put(t, envPath, `{"kind":"preview"}`)
	if code, _ := s.get(t, host, "/"); code != 200 {
		t.Fatalf("after the allow-list was taken off: %d", code)
	}
	c := s.client(t)
	if code := c.putStatus(t, envPath, `{"kind":"preview","domains":["www.shop.apps.example.net"]}`); code != 400 {
		t.Fatalf("a custom domain under the sites domain: %d, want 400", code)
	}
}
