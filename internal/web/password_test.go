package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSetPasswordForm: an admin sets anyone's password from the users page
// without the current one; a viewer's users page is only the form for
// their own password, which needs the current one; a mismatched
// confirmation, a short password and someone else's name are refused
// plainly; no page, audit record or log line ever holds a password.
func TestSetPasswordForm(t *testing.T) {
	const (
		veraOld = "vera-old-password-1"
		veraNew = "vera-new-password-2"
		veraAdm = "vera-set-by-admin-3"
		wrong   = "not-veras-password-4"
		short   = "short-pw"
		typo    = "vera-typo-password-5"
	)
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	f.addUser("vera", "viewer", veraOld)
	var pages []string
	keep := func(resp *http.Response, page string) (*http.Response, string) {
		pages = append(pages, page)
		return resp, page
	}

	vb := f.browser()
	vb.mustLogin("vera", veraOld)
	resp, page := keep(vb.get("/ui/users"))
	if resp.StatusCode != 200 || !strings.Contains(page, "Set your password (vera)") || !strings.Contains(page, `name="current"`) ||
		strings.Contains(page, "Add a user") || strings.Contains(page, `action="/ui/users/admin/password"`) {
		t.Fatalf("a viewer's users page: %d\n%s", resp.StatusCode, page)
	}
	for _, c := range []struct {
		form   url.Values
		path   string
		status int
		says   string
	}{
		{url.Values{"current": {wrong}, "password": {veraNew}, "confirm": {veraNew}}, "/ui/users/vera/password", http.StatusForbidden, "current password is wrong"},
		{url.Values{"current": {veraOld}, "password": {veraNew}, "confirm": {typo}}, "/ui/users/vera/password", http.StatusBadRequest, "the two new passwords differ"},
		{url.Values{"current": {veraOld}, "password": {short}, "confirm": {short}}, "/ui/users/vera/password", http.StatusBadRequest, "12"},
		{url.Values{"password": {veraNew}, "confirm": {veraNew}}, "/ui/users/admin/password", http.StatusForbidden, ""},
	} {
		resp, page := keep(vb.post(c.path, c.form))
		if resp.StatusCode != c.status || !strings.Contains(page, c.says) {
			t.Errorf("%s %v: %d, want %d saying %q\n%s", c.path, c.form.Get("confirm"), resp.StatusCode, c.status, c.says, page)
		}
	}
	resp, _ = vb.post("/ui/users/vera/password", url.Values{"current": {veraOld}, "password": {veraNew}, "confirm": {veraNew}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("vera setting her own password: %d", resp.StatusCode)
	}
	if resp, _ := vb.get("/ui/users"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("vera's session outlived her password change: %d", resp.StatusCode)
	}
	vb.mustLogin("vera", veraNew)

	ab := f.browser()
	ab.mustLogin("admin", adminPW)
	if _, page := keep(ab.get("/ui/users")); !strings.Contains(page, `action="/ui/users/vera/password"`) ||
		!strings.Contains(page, `action="/ui/users/admin/password" class="inline" id="password"`) {
		t.Fatalf("the admin's users page has no password forms, or the header's 'your password' link no target:\n%s", page)
	}
	resp, _ = ab.post("/ui/users/vera/password", url.Values{"password": {veraAdm}, "confirm": {veraAdm}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("an admin setting vera's password without hers: %d", resp.StatusCode)
	}
	_, page = keep(ab.get("/ui/users"))
	if !strings.Contains(page, "Password of vera set.") {
		t.Fatalf("no word that the password was set:\n%s", page)
	}
	if resp, _ := f.browser().login("vera", veraNew); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("vera's previous password still signs in")
	}
	f.browser().mustLogin("vera", veraAdm)
	keep(ab.get("/ui/audit?action=user.*"))
	if !strings.Contains(pages[len(pages)-1], "user.passwd") {
		t.Fatalf("the password changes are not in the audit log:\n%s", pages[len(pages)-1])
	}
	keep(ab.get("/ui/audit"))
	for _, pw := range []string{veraOld, veraNew, veraAdm, wrong, short, typo} {
		for _, p := range pages {
			if strings.Contains(p, pw) {
				t.Errorf("a page shows the password %q", pw)
			}
		}
		if f.logs.Contains(pw) {
			t.Errorf("the server log holds the password %q", pw)
		}
	}
}
