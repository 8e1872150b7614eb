package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestBlobFlags: no --blob-store keeps blobs in the data dir; a bad URL,
// missing credentials or an endpoint without the URL are usage errors
// naming the flag; one AWS_SECRET_ACCESS_KEY serves --blob-store and
// --backup-mirror alike, leaves the environment, and is never shown.
func TestBlobFlags(t *testing.T) {
	const secret = "cli-blob-secret"
	if bs, err := (blobFlags{}).open(asFlags); bs != nil || err != nil {
		t.Fatalf("default = %v, %v; want the data dir", bs, err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCLI")
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	for _, bf := range []blobFlags{{s3Flags{endpoint: "http://127.0.0.1:9"}}, {s3Flags{url: "s3:/bucket"}}, {s3Flags{url: "s3://b", endpoint: "localhost"}}} {
		_, err := bf.open(asFlags)
		if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "--blob-store") || strings.Contains(err.Error(), secret) {
			t.Fatalf("open(%+v) = %v", bf, err)
		}
	}
	bs, err := (blobFlags{s3Flags{url: "s3://artifacts/phoenix", endpoint: "http://127.0.0.1:9"}}).open(asFlags)
	if err != nil || bs.String() != "s3://artifacts/phoenix" {
		t.Fatalf("open = %v, %v", bs, err)
	}
	if _, ok := os.LookupEnv("AWS_SECRET_ACCESS_KEY"); ok {
		t.Fatal("the secret key stays in the environment of the processes the server starts")
	}
	if _, err := (mirrorFlags{s3Flags{url: "s3://offsite/phoenix", endpoint: "http://127.0.0.1:9"}}).open(asFlags, "backup-mirror", "backup-mirror-endpoint"); err != nil {
		t.Fatalf("the mirror after the blob store has no credentials: %v", err)
	}
}
