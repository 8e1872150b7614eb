package waf

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBodyIsInspectedAndStillReadable checks that the handler reads the
// whole body after Inspect, inspected or not.
func TestBodyIsInspectedAndStillReadable(t *testing.T) {
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}})
	json := with(chromeHeaders, "Content-Type", "application/json")
	attack := `{"q":"x' UNION SELECT password FROM users--"}`
	pad := `{"pad":"` + strings.Repeat("a", MaxBodyInspect) + `","q":"x' UNION SELECT password FROM users--"}`
	cases := []struct {
		name    string
		body    string
		chunked bool
		rule    string
	}{
		{"small attack", attack, false, "crs-942100"},
		{"small attack, chunked", attack, true, "crs-942100"},
		{"clean", `{"items":[{"sku":"SHOE-42","qty":2}]}`, false, ""},
		{"attack past the limit is not inspected", pad, false, ""},
		{"attack past the limit, chunked", pad, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := request(t, "POST", "/api/search", json, c.body)
			if c.chunked {
				r.ContentLength = -1
				r.Body = io.NopCloser(strings.NewReader(c.body)) // no length known up front
			}
			rule, _ := f.Inspect(r, publicClient)
			if rule != c.rule {
				t.Errorf("Inspect = %q; want %q", rule, c.rule)
			}
			got, err := io.ReadAll(r.Body)
			if err != nil || string(got) != c.body {
				t.Fatalf("body after Inspect: %d bytes, %v; want the %d bytes sent", len(got), err, len(c.body))
			}
			if err := r.Body.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// TestBodyReadErrorReachesTheHandler: a body that fails mid-read is not
// inspected, and the handler still sees the bytes and the failure.
func TestBodyReadErrorReachesTheHandler(t *testing.T) {
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}})
	r := request(t, "POST", "/api/cart", with(chromeHeaders, "Content-Type", "application/json"), "")
	r.ContentLength = -1
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"items":`), errReader{}))
	if rule, _ := f.Inspect(r, publicClient); rule != "" {
		t.Errorf("Inspect = %q; want no match", rule)
	}
	got, err := io.ReadAll(r.Body)
	if string(got) != `{"items":` || err != io.ErrUnexpectedEOF {
		t.Errorf("body after Inspect = %q, %v; want the bytes read and io.ErrUnexpectedEOF", got, err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestUnparsableBodyIsRefused: a body that does not parse as its declared
// type cannot be inspected, so Coraza's recommended rule 200002 refuses it
// (otherwise a broken JSON body would smuggle anything past the CRS).
func TestUnparsableBodyIsRefused(t *testing.T) {
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}})
	r := request(t, "POST", "/api/cart", with(chromeHeaders, "Content-Type", "application/json"), `{"items":[`)
	if rule, block := f.Inspect(r, publicClient); rule != "waf-200002" || !block {
		t.Errorf("Inspect = %q, %v; want waf-200002, true", rule, block)
	}
	if r.Body == http.NoBody {
		t.Fatal("body replaced by NoBody")
	}
}
