package config

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseEdgeNamesTheField(t *testing.T) {
	for _, c := range []struct{ name, in, field string }{
		{"per", `{"rate_limit":{"requests":10,"per":"0s"}}`, "edge.rate_limit.per"},
		{"exempt", `{"rate_limit":{"requests":10,"exempt":["nope"]}}`, "edge.rate_limit.exempt[0]"},
		{"requests", `{"rate_limit":{"per":"1m"}}`, "edge.rate_limit.requests"},
		{"scheme", `{"headers":[{"name":"a","match":{"scheme":"ftp"},"set":{"A":"b"}}]}`, "edge.headers[0].match.scheme"},
		{"glob", `{"headers":[{"name":"a","match":{"path":"assets/*"},"set":{"A":"b"}}]}`, "edge.headers[0].match.path"},
		{"cookie", `{"headers":[{"name":"a","set":{"set-cookie":"x"}}]}`, "edge.headers[0].set.set-cookie"},
		{"unknown", `{"rate_limits":{}}`, "edge.rate_limits"},
		{"mode", `{"waf":{"mode":"loud"}}`, "edge.waf.mode"},
		{"geo", `{"waf":{"geo_deny":["kp"]}}`, "edge.waf.geo_deny[0]"},
		{"not a mapping", `[1]`, "edge"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseEdge([]byte(c.in), "")
			ps, ok := err.(Problems)
			if !ok || len(ps) == 0 {
				t.Fatalf("err = %v, want Problems", err)
			}
			if ps[0].Field != c.field || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("field %q in %v, want %q", ps[0].Field, err, c.field)
			}
		})
	}
}

func TestParseEdgeDefaultsAndCanonical(t *testing.T) {
	e, err := ParseEdge([]byte(`{"headers":[{"name":"b","order":2,"set":{"X-B":"1"}},{"name":"a","order":1,"remove":["Server"]}],
		"rate_limit":{"requests":5,"burst":2}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if e.RateLimit.Per.D() != time.Minute || e.WAF.Mode != "off" {
		t.Fatalf("defaults not applied: %+v", e)
	}
	canon, err := e.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"headers":[{"name":"a","order":1,"match":{},"remove":["Server"]},{"name":"b","order":2,"match":{},"set":{"X-B":"1"}}],` +
		`"rate_limit":{"requests":5,"per":"1m0s","burst":2},"waf":{"mode":"off"}}`
	if string(canon) != want {
		t.Fatalf("canonical\n got %s\nwant %s", canon, want)
	}
	again, err := ParseEdge(canon, "")
	if err != nil {
		t.Fatal(err)
	}
	if c2, _ := again.Canonical(); !bytes.Equal(c2, canon) {
		t.Fatalf("canonical form does not round-trip: %s", c2)
	}
}

func TestEdgeIsZero(t *testing.T) {
	for in, zero := range map[string]bool{`{}`: true, `{"waf":{"mode":"off"}}`: true, `{"waf":{"mode":"detect"}}`: false,
		`{"rate_limit":{"requests":1}}`: false, `{"headers":[{"name":"a","remove":["Server"]}]}`: false} {
		e, err := ParseEdge([]byte(in), "")
		if err != nil {
			t.Fatal(in, err)
		}
		canon, _ := e.Canonical()
		if e.IsZero() != zero || (canon == nil) != zero {
			t.Errorf("%s: IsZero %v canonical %s", in, e.IsZero(), canon)
		}
	}
	var nilEdge *Edge
	if !nilEdge.IsZero() {
		t.Error("nil edge is not zero")
	}
}

// FuzzParseEdge: ParseEdge never panics, its problems name a field under
// edge, and what it accepts round-trips through Canonical.
func FuzzParseEdge(f *testing.F) {
	for _, s := range []string{`{}`, `{"rate_limit":{"requests":5,"per":"1m","exempt":["10.0.0.0/8"]}}`,
		`{"headers":[{"name":"h","order":1,"match":{"scheme":"https","path":"/*"},"set":{"A":"b"},"remove":["C"]}]}`,
		`{"waf":{"mode":"block","rules":["owasp-core"],"geo_deny":["KP"]}}`, `[]`, `null`, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEdge(data, "")
		if err != nil {
			ps, ok := err.(Problems)
			if !ok || len(ps) == 0 || e != nil {
				t.Fatalf("err %T %v, edge %v", err, err, e)
			}
			return
		}
		canon, err := e.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if canon == nil {
			return
		}
		again, err := ParseEdge(canon, "")
		if err != nil {
			t.Fatalf("canonical %s does not parse: %v", canon, err)
		}
		if c2, _ := again.Canonical(); !bytes.Equal(c2, canon) {
			t.Fatalf("canonical changed: %s -> %s", canon, c2)
		}
	})
}

// TestDurationJSONRoundTrip: a stored policy's durations decode back,
// in Go's form and in phoenix.yaml's; anything else is an error.
func TestDurationJSONRoundTrip(t *testing.T) {
	for in, want := range map[string]time.Duration{`"1m0s"`: time.Minute, `"5m"`: 5 * time.Minute, `"PT30S"`: 30 * time.Second,
		`90`: 90 * time.Second, `"1h30m0s"`: 90 * time.Minute} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.D() != want {
			t.Errorf("%s: %v %v, want %v", in, d.D(), err, want)
		}
		out, _ := json.Marshal(d)
		var back Duration
		if err := json.Unmarshal(out, &back); err != nil || back != d {
			t.Errorf("%s: round trip through %s gave %v %v", in, out, back.D(), err)
		}
	}
	for _, bad := range []string{`"soon"`, `true`, `"-5m"`} {
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s decoded as %v", bad, d.D())
		}
	}
}
