package s3conn

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for raw, want := range map[string][2]string{
		"s3://b":            {"b", ""},
		"s3://b/":           {"b", ""},
		"s3://b/p":          {"b", "p/"},
		"s3://b/a/b/":       {"b", "a/b/"},
		"s3://my-bucket/x1": {"my-bucket", "x1/"},
	} {
		bucket, prefix, err := ParseURL(raw)
		if err != nil || bucket != want[0] || prefix != want[1] {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", raw, bucket, prefix, err, want[0], want[1])
		}
	}
	for _, raw := range []string{"", "b/p", "http://b/p", "s3:///p", "s3://b/a/../c", "s3://k:secret@b/p", "s3://b/p?x", "s3://b/p#f"} {
		if _, _, err := ParseURL(raw); err == nil {
			t.Errorf("ParseURL(%q) succeeded", raw)
		}
	}
}

// TestOpenErrorsHoldNoSecret: a refused configuration names what is wrong
// and never the secret key.
func TestOpenErrorsHoldNoSecret(t *testing.T) {
	const secret = "s3conn-secret-never-shown"
	for _, cfg := range []Config{
		{URL: "s3://b/p"},
		{URL: "s3://b/p", AccessKey: "AKID"},
		{URL: "ftp://b", AccessKey: "AKID", SecretKey: secret},
		{URL: "s3://b", Endpoint: "localhost:9000", AccessKey: "AKID", SecretKey: secret},
		{URL: "s3://b", Endpoint: "http://AKID:" + secret + "@x", AccessKey: "AKID", SecretKey: secret},
	} {
		_, err := Open(cfg)
		if err == nil {
			t.Fatalf("Open(%+v) succeeded", cfg.URL)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error shows the secret: %v", err)
		}
	}
	if _, err := Open(Config{URL: "s3://b"}); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("no credentials: %v", err)
	}
	p, err := Open(Config{URL: "s3://b/p", Endpoint: "http://127.0.0.1:9", AccessKey: "AKID", SecretKey: secret})
	if err != nil || p.Bucket != "b" || p.Prefix != "p/" || strings.Contains(p.String(), secret) {
		t.Fatalf("Open = %+v, %v", p, err)
	}
}

func TestPartSizeFor(t *testing.T) {
	if got := PartSizeFor(6<<30, PartSize); got != PartSize {
		t.Errorf("6 GiB: part %d", got)
	}
	if got := PartSizeFor(1<<40, PartSize); got*maxParts < 1<<40 {
		t.Errorf("1 TiB in parts of %d does not fit 10,000 parts", got)
	}
}
