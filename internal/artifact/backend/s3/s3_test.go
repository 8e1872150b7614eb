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
