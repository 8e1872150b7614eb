package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/backendtest"
	"github.com/phoenixvc/phoenix/internal/s3conn"
)

// TestContractExternal runs the contract against a real S3 API when
// PHOENIX_S3_TEST_URL (s3://bucket/prefix of an existing bucket) is set,
// with PHOENIX_S3_TEST_ENDPOINT and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY:
// a store that checks ChecksumSHA256 (versitygw, MinIO, AWS) rather than
// the in-process stand-in. Each subtest works under a new random prefix.
func TestContractExternal(t *testing.T) {
	base := os.Getenv("PHOENIX_S3_TEST_URL")
	if base == "" {
		t.Skip("PHOENIX_S3_TEST_URL not set: no external S3 API to run the contract against")
	}
	fresh := func(t *testing.T) *Store {
		var b [8]byte
		rand.Read(b[:])
		s, err := New(Config{Config: s3conn.Config{URL: base + "/" + hex.EncodeToString(b[:]), Endpoint: os.Getenv("PHOENIX_S3_TEST_ENDPOINT"),
			AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}, SpoolDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	backendtest.Run(t, func(t *testing.T) backend.Backend { return fresh(t) })
	t.Run("store checks the checksum", func(t *testing.T) {
		s := fresh(t)
		ctx := context.Background()
		d := backend.Sum([]byte("claimed"))
		k, _ := s.key(d)
		_, err := s.c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k),
			Body: strings.NewReader("other bytes"), ChecksumSHA256: aws.String(checksum(d))})
		if err == nil {
			t.Fatal("the store took bytes whose sha256 differs from ChecksumSHA256")
		}
		if _, err := s.Stat(ctx, d); !errors.Is(err, backend.ErrNotFound) {
			t.Fatalf("refused object visible: %v", err)
		}
	})
}
