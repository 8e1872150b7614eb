package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/s3conn"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// partCounter is a proxy in front of the S3 server that counts the
// uploaded parts and can fail every attempt at the second one (the SDK
// retries a 500).
type partCounter struct {
	parts, aborts atomic.Int32
	failSecond    bool
}

func (pc *partCounter) start(t *testing.T, target string) string {
	u, _ := url.Parse(target)
	p := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.Method == http.MethodPut && q.Get("partNumber") != "":
			pc.parts.Add(1)
			if q.Get("partNumber") == "2" && pc.failSecond {
				http.Error(w, "<Error><Code>InternalError</Code></Error>", http.StatusInternalServerError)
				return
			}
		case r.Method == http.MethodDelete && q.Get("uploadId") != "":
			pc.aborts.Add(1)
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestLargeBlobsGoUpInParts: a blob over the single-Put limit goes up in
// parts and reads back whole; a failed part aborts the upload and leaves
// no object. (The limits are lowered for the test: S3's are 5 GiB for one
// Put and 5 MiB for a part.)
func TestLargeBlobsGoUpInParts(t *testing.T) {
	ctx := context.Background()
	data := make([]byte, 12<<20+123)
	rand.Read(data)
	d := backend.Sum(data)
	for _, fail := range []bool{false, true} {
		pc := &partCounter{failSecond: fail}
		s := newStore(t, pc.start(t, testkit.S3(t, "blobs")), "s3://blobs/p")
		s.single, s.partSize = 6<<20, s3conn.MinPartSize
		err := s.Put(ctx, d, bytes.NewReader(data), int64(len(data)))
		if fail {
			if err == nil || !strings.Contains(err.Error(), "multipart") {
				t.Fatalf("a failed part: %v", err)
			}
			if pc.aborts.Load() != 1 {
				t.Errorf("%d aborts after a failed part, want 1", pc.aborts.Load())
			}
			if _, err := s.Stat(ctx, d); !errors.Is(err, backend.ErrNotFound) {
				t.Errorf("an object exists after a failed upload: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := pc.parts.Load(); got != 3 {
			t.Errorf("%d parts, want 3", got)
		}
		r, err := s.Get(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		back, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(back, data) {
			t.Fatalf("read back %d bytes, not the %d put", len(back), len(data))
		}
		if info, err := s.Stat(ctx, d); err != nil || info.Size != int64(len(data)) {
			t.Errorf("stat %+v %v", info, err)
		}
	}
}
