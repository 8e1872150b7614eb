package e2e

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDashboardOfTheServerBinary signs in to the dashboard of a real
// 'phoenix server' as a browser would and reads the overview.
func TestDashboardOfTheServerBinary(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	base := "http://" + s.api
	req, _ := http.NewRequest("PUT", base+"/api/v1/users/admin/password", strings.NewReader(`{"password":"e2e-dashboard-pw"}`))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("set the password: %v %v", resp, err)
	}
	jar := map[string]string{}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range jar {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, c := range resp.Cookies() {
			jar[c.Name] = c.Value
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s %s: no CSP", method, path)
		}
		return resp, string(b)
	}
	if resp, _ := send("GET", "/", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed-out overview: %d", resp.StatusCode)
	}
	_, page := send("GET", "/ui/login", nil)
	nonce := regexp.MustCompile(`name="nonce" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if nonce == nil {
		t.Fatalf("no sign-in form:\n%s", page)
	}
	resp, _ := send("POST", "/ui/login", url.Values{"user": {"admin"}, "password": {"e2e-dashboard-pw"}, "nonce": {nonce[1]}})
	if resp.StatusCode != http.StatusSeeOther || jar["__Host-phoenix_session"] == "" {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	if resp, page := send("GET", "/", nil); resp.StatusCode != 200 || !strings.Contains(page, "Signed in as <strong>admin</strong>") {
		t.Fatalf("overview: %d\n%s", resp.StatusCode, page)
	}
	if s.logs.Contains("e2e-dashboard-pw") {
		t.Fatal("the password is in the server's log")
	}
}
