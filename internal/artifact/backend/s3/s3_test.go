package s3

import (
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/backendtest"
	"github.com/phoenixvc/phoenix/internal/s3conn"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// The S3 server is testkit.S3: the S3 REST API on 127.0.0.1 in this
// process (gofakes3). No cloud storage can run in a test.

const testSecret = "blob-store-secret-never-in-errors"

func newStore(t *testing.T, endpoint, url string) *Store {
	t.Helper()
	s, err := New(Config{Config: s3conn.Config{URL: url, Endpoint: endpoint, AccessKey: "AKIDTEST", SecretKey: testSecret},
		SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestContract runs the backend contract; every subtest gets its own
// server, so each starts with an empty bucket.
func TestContract(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return newStore(t, testkit.S3(t, "blobs"), "s3://blobs/site/prod")
	})
}

// TestContractNoPrefix: the same with the blobs at the bucket's top.
func TestContractNoPrefix(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return newStore(t, testkit.S3(t, "blobs"), "s3://blobs")
	})
}

// TestIdentity: one spelling per place, whatever the URL's and the
// endpoint's trailing slashes or case; another endpoint, bucket or prefix
// is another place.
func TestIdentity(t *testing.T) {
	id := func(endpoint, url string) string { return newStore(t, endpoint, url).Identity() }
	want := "s3://artifacts/phoenix at http://minio:9000"
	for _, got := range []string{id("http://minio:9000", "s3://artifacts/phoenix"), id("HTTP://MinIO:9000/", "s3://artifacts/phoenix/")} {
		if got != want {
			t.Errorf("Identity = %q, want %q", got, want)
		}
	}
	if got := id("", "s3://artifacts"); got != "s3://artifacts at AWS" {
		t.Errorf("Identity on AWS, no prefix = %q", got)
	}
	base := id("http://minio:9000", "s3://artifacts/phoenix")
	for _, other := range []string{id("http://minio:9001", "s3://artifacts/phoenix"), id("http://minio:9000", "s3://other/phoenix"),
		id("http://minio:9000", "s3://artifacts/phoenix/staging"), id("", "s3://artifacts/phoenix")} {
		if other == base {
			t.Errorf("%q is another place than %q", other, base)
		}
	}
}

func TestNormalEndpoint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000"},
		{"HTTP://Minio.Local", "http://minio.local"},
		{"https://s3.example.com:443", "https://s3.example.com"},
		{"https://s3.example.com:443/", "https://s3.example.com"},
		{"http://minio.local:80/", "http://minio.local"},
		{"http://minio.local:", "http://minio.local"},
		{"https://s3.example.com:80", "https://s3.example.com:80"}, // not https' default
		{"http://s3.example.com:443", "http://s3.example.com:443"},
		{"https://[::1]:443/", "https://[::1]"},
		{"http://[::1]:9000", "http://[::1]:9000"},
		{"https://Gateway.example.com/S3/Store/", "https://gateway.example.com/S3/Store"}, // the path keeps its case
		{"https://gateway.example.com//", "https://gateway.example.com"},
		{"AWS", "AWS"},
	} {
		if got := normalEndpoint(tc.in); got != tc.want {
			t.Errorf("normalEndpoint(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSameIdentity: the spellings of one place are one store (Identity
// keeps the endpoint as written, default port and all); another scheme,
// host, port, path, bucket or prefix is another.
func TestSameIdentity(t *testing.T) {
	id := func(endpoint, url string) string { return newStore(t, endpoint, url).Identity() }
	base := id("https://s3.example.com", "s3://artifacts/phoenix")
	for _, same := range []string{
		id("https://s3.example.com:443", "s3://artifacts/phoenix"),
		id("HTTPS://S3.Example.com:443/", "s3://artifacts/phoenix/"),
	} {
		if !SameIdentity(base, same) || !SameIdentity(same, base) {
			t.Errorf("%q and %q are one store", base, same)
		}
	}
	for _, other := range []string{
		id("https://s3.example.com:8443", "s3://artifacts/phoenix"),
		id("http://s3.example.com", "s3://artifacts/phoenix"),
		id("https://s3.example.org", "s3://artifacts/phoenix"),
		id("https://s3.example.com/tenant", "s3://artifacts/phoenix"),
		id("https://s3.example.com", "s3://other/phoenix"),
		id("https://s3.example.com", "s3://artifacts/phoenix/staging"),
		id("https://s3.example.com", "s3://artifacts"),
		id("", "s3://artifacts/phoenix"),
	} {
		if SameIdentity(base, other) {
			t.Errorf("%q is another store than %q", other, base)
		}
	}
}
