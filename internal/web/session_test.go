package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/phoenixvc/phoenix/internal/api"
)

func TestTheSessionCookieIsTheAPIs(t *testing.T) {
	// The browser's session cookie also authenticates its own GETs to the API.
	if cookieSession != api.SessionCookie {
		t.Fatalf("%s != %s", cookieSession, api.SessionCookie)
	}
}

// flashFrom sets a flash cookie value as a browser would send it back.
func flashFrom(d *Dashboard, value string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: cookieFlash, Value: value})
	return d.takeFlash(httptest.NewRecorder(), r)
}

func FuzzFlash(f *testing.F) {
	d := &Dashboard{}
	for _, s := range []string{"Rolled back.", "", "<script>", strings.Repeat("x", 400), "\xff\xfe", "Activated deployment 3 (v1.0.0) on production."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		// What the dashboard sets comes back (cut to maxFlash, valid UTF-8).
		w := httptest.NewRecorder()
		d.setFlash(w, msg)
		cookies := w.Result().Cookies()
		if len(cookies) != 1 || !cookies[0].HttpOnly || !cookies[0].Secure || cookies[0].SameSite != http.SameSiteStrictMode {
			t.Fatalf("flash cookie: %+v", cookies)
		}
		got := flashFrom(d, cookies[0].Value)
		if !utf8.ValidString(got) || len(got) > maxFlash || !strings.HasPrefix(msg, strings.ToValidUTF8(got, "")) && utf8.ValidString(msg) {
			t.Fatalf("flash %q came back as %q", msg, got)
		}
		// Any value a browser sends is read without a panic, bounded.
		if got := flashFrom(d, msg); !utf8.ValidString(got) || len(got) > maxFlash {
			t.Fatalf("cookie %q read as %q", msg, got)
		}
	})
}
