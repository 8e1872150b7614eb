package s3

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// recorder is a proxy in front of the S3 server that keeps the checksum
// header of every PutObject.
type recorder struct {
	mu   sync.Mutex
	sums []string
}

func (rc *recorder) start(t *testing.T, target string) string {
	u, _ := url.Parse(target)
	p := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			rc.mu.Lock()
			rc.sums = append(rc.sums, r.Header.Get("X-Amz-Checksum-Sha256"))
			rc.mu.Unlock()
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPutSendsTheChecksumAndSpoolsNothing: the object is sent with its
// sha256 so S3 checks it too; refused Puts leave no spool file.
func TestPutSendsTheChecksumAndSpoolsNothing(t *testing.T) {
	rc := &recorder{}
	s := newStore(t, rc.start(t, testkit.S3(t, "blobs")), "s3://blobs/p")
	ctx := context.Background()
	data := []byte("checked twice")
	d := backend.Sum(data)
	if err := s.Put(ctx, d, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, backend.Sum([]byte("x")), bytes.NewReader(data), -1); !errors.Is(err, backend.ErrDigestMismatch) {
		t.Fatalf("mismatched Put = %v", err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.sums) != 1 || rc.sums[0] != checksum(d) {
		t.Fatalf("PutObject checksums = %q, want one %q", rc.sums, checksum(d))
	}
	if left, _ := os.ReadDir(s.spool); len(left) != 0 {
		t.Fatalf("spool holds %d file(s) after the Puts", len(left))
	}
}

// TestPutFromFile: an *os.File is hashed in place from its offset, and a
// file whose bytes do not match is refused.
func TestPutFromFile(t *testing.T) {
	s := newStore(t, testkit.S3(t, "blobs"), "s3://blobs")
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("skip:the body"), 0o600)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Seek(5, 0)
	d := backend.Sum([]byte("the body"))
	if err := s.Put(ctx, d, f, 8); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(rc)
	rc.Close()
	if got.String() != "the body" {
		t.Fatalf("Get = %q", got.String())
	}
	f.Seek(0, 0)
	other := backend.Sum([]byte("claimed"))
	if err := s.Put(ctx, other, f, -1); !errors.Is(err, backend.ErrDigestMismatch) {
		t.Fatalf("Put of a wrong file = %v", err)
	}
	if _, err := s.Stat(ctx, other); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("refused blob visible: %v", err)
	}
}

// TestListIgnoresOtherKeys: only keys in the blob layout are blobs.
func TestListIgnoresOtherKeys(t *testing.T) {
	s := newStore(t, testkit.S3(t, "blobs"), "s3://blobs/p")
	ctx := context.Background()
	d := backend.Sum([]byte("one"))
	if err := s.Put(ctx, d, bytes.NewReader([]byte("one")), 3); err != nil {
		t.Fatal(err)
	}
	h := d.Hex()
	for _, k := range []string{"p/blobs/sha256/" + h, "p/blobs/sha256/zz/" + h, "p/blobs/sha256/" + h[:2] + "/" + h + ".tmp",
		"p/other", "blobs/sha256/" + h[:2] + "/" + h, "p/blobs/sha256/00/" + h} {
		_, err := s.c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("blobs"), Key: aws.String(k), Body: strings.NewReader("x")})
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []backend.Digest
	if err := s.List(ctx, func(d backend.Digest) error { got = append(got, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != d {
		t.Fatalf("List = %v, want [%s]", got, d)
	}
}

// TestErrorsNameTheStoreNotTheSecret: a missing bucket or an unreachable
// endpoint fails Check and every operation with the URL and digest in the
// message, never the secret key.
func TestErrorsNameTheStoreNotTheSecret(t *testing.T) {
	ctx := context.Background()
	good := newStore(t, testkit.S3(t, "blobs"), "s3://blobs/p")
	if err := good.Check(ctx); err != nil {
		t.Fatalf("Check of a reachable bucket: %v", err)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	d := backend.Sum([]byte("x"))
	for _, s := range []*Store{newStore(t, testkit.S3(t, "blobs"), "s3://missing-bucket/p"), newStore(t, deadURL, "s3://blobs/p")} {
		errs := []error{s.Check(ctx), s.Put(ctx, d, strings.NewReader("x"), 1), s.List(ctx, func(backend.Digest) error { return nil })}
		_, err := s.Get(ctx, d)
		errs = append(errs, err)
		for i, err := range errs {
			if err == nil {
				t.Fatalf("%s: operation %d succeeded", s, i)
			}
			if strings.Contains(err.Error(), testSecret) || !strings.Contains(err.Error(), s.String()) {
				t.Fatalf("error %d = %v; want the URL %s and never the secret", i, err, s)
			}
		}
	}
}

// TestCancelledReads: Get, Stat and List end with their context.
func TestCancelledReads(t *testing.T) {
	s := newStore(t, testkit.S3(t, "blobs"), "s3://blobs")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := backend.Sum([]byte("x"))
	if _, err := s.Get(ctx, d); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v", err)
	}
	if _, err := s.Stat(ctx, d); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stat = %v", err)
	}
	if err := s.List(ctx, func(backend.Digest) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("List = %v", err)
	}
}

// TestClaim: the first owner claims the prefix, claims again, and another
// owner is refused; another prefix of the same bucket is free, and the
// owner object is not listed as a blob.
func TestClaim(t *testing.T) {
	ctx := context.Background()
	endpoint := testkit.S3(t, "blobs")
	a, b := newStore(t, endpoint, "s3://blobs/p"), newStore(t, endpoint, "s3://blobs/p")
	if err := a.Claim(ctx, "server-a"); err != nil {
		t.Fatal(err)
	}
	if err := a.Claim(ctx, "server-a"); err != nil {
		t.Fatalf("second claim by the owner: %v", err)
	}
	if err := b.Claim(ctx, "server-b"); !errors.Is(err, ErrClaimed) || !strings.Contains(err.Error(), "s3://blobs/p") {
		t.Fatalf("claim by another server = %v", err)
	}
	if err := newStore(t, endpoint, "s3://blobs/p/q").Claim(ctx, "server-b"); err != nil {
		t.Fatalf("claim of another prefix: %v", err)
	}
	n := 0
	a.List(ctx, func(backend.Digest) error { n++; return nil })
	if n != 0 {
		t.Fatalf("List found %d blobs in a prefix holding only its owner", n)
	}
}
