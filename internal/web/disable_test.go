package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDisableUserForm: an admin disables a user from the users page and
// that user's open dashboard session ends; the page marks them and offers
// to enable them again; a viewer cannot post the form; the last admin
// cannot disable themselves.
func TestDisableUserForm(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	f.addUser("vera", "viewer", "vera-password-1234")
	vb := f.browser()
	vb.mustLogin("vera", "vera-password-1234")
	if resp, _ := vb.post("/ui/users/admin/disabled", url.Values{"disabled": {"true"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer disabling the admin: %d", resp.StatusCode)
	}
	ab := f.browser()
	ab.mustLogin("admin", adminPW)
	resp, _ := ab.post("/ui/users/vera/disabled", url.Values{"disabled": {"true"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disabling vera: %d", resp.StatusCode)
	}
	_, page := ab.get("/ui/users")
	if !strings.Contains(page, "vera disabled") || !strings.Contains(page, "Enable vera") {
		t.Fatalf("the users page after disabling vera:\n%s", page)
	}
	if resp, _ := vb.get("/ui/users"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("vera's session outlived her disabling: %d", resp.StatusCode)
	}
	if resp, _ := f.browser().login("vera", "vera-password-1234"); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("a disabled user signed in")
	}
	resp, page = ab.post("/ui/users/admin/disabled", url.Values{"disabled": {"true"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "last enabled admin") {
		t.Fatalf("the last admin disabling themselves: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := ab.post("/ui/users/vera/disabled", url.Values{"disabled": {"false"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("enabling vera: %d", resp.StatusCode)
	}
	f.browser().mustLogin("vera", "vera-password-1234")
}
