// Package backendtest is the contract test suite every backend.Backend runs:
//
//	func TestContract(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend { return newStore(t) })
//	}
//
// Each subtest gets a fresh, empty backend from the factory.
package backendtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sort"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// Factory returns a new, empty backend; it registers its own cleanup on t.
type Factory func(t *testing.T) backend.Backend

// Run runs the whole contract against backends made by newBackend.
func Run(t *testing.T, newBackend Factory) {
	tests := map[string]func(*testing.T, backend.Backend){
		"put get stat":             testRoundTrip,
		"empty blob":               testEmpty,
		"unknown size":             testUnknownSize,
		"digest mismatch":          testDigestMismatch,
		"size too small":           testSizeShort,
		"size too large":           testSizeLong,
		"reader error":             testReaderError,
		"cancelled put":            testCancelledPut,
		"put existing":             testPutExisting,
		"concurrent same blob":     testConcurrentSame,
		"missing blob":             testMissing,
		"invalid digest":           testInvalidDigest,
		"list":                     testList,
		"list stops on fn error":   testListStops,
		"delete":                   testDelete,
		"optional pather":          testPather,
		"optional batch commit":    testBatchCommit,
		"optional batch abort":     testBatchAbort,
		"optional batch bad input": testBatchBad,
		"optional link":            testLink,
		"optional batch link":      testBatchLink,
		"optional fetch":           testFetch,
	}
	names := make([]string, 0, len(tests))
	for n := range tests {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Run(n, func(t *testing.T) { tests[n](t, newBackend(t)) })
	}
}

// blob is test content with its digest.
type blob struct {
	data []byte
	d    backend.Digest
}

func newBlob(s string) blob { return blob{[]byte(s), backend.Sum([]byte(s))} }

func put(t *testing.T, b backend.Backend, x blob) {
	t.Helper()
	if err := b.Put(context.Background(), x.d, bytes.NewReader(x.data), int64(len(x.data))); err != nil {
		t.Fatalf("Put(%s): %v", x.d, err)
	}
}

func mustGet(t *testing.T, b backend.Backend, d backend.Digest) []byte {
	t.Helper()
	rc, err := b.Get(context.Background(), d)
	if err != nil {
		t.Fatalf("Get(%s): %v", d, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", d, err)
	}
	return got
}

func wantAbsent(t *testing.T, b backend.Backend, d backend.Digest) {
	t.Helper()
	if _, err := b.Stat(context.Background(), d); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Stat(%s) = %v, want ErrNotFound", d, err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func testRoundTrip(t *testing.T, b backend.Backend) {
	x := newBlob("hello, blob\n")
	put(t, b, x)
	if got := mustGet(t, b, x.d); !bytes.Equal(got, x.data) {
		t.Fatalf("Get = %q, want %q", got, x.data)
	}
	info, err := b.Stat(context.Background(), x.d)
	if err != nil || info.Size != int64(len(x.data)) || info.Digest != x.d {
		t.Fatalf("Stat = %+v, %v; want size %d", info, err, len(x.data))
	}
}

func testEmpty(t *testing.T, b backend.Backend) {
	x := newBlob("")
	put(t, b, x)
	if got := mustGet(t, b, x.d); len(got) != 0 {
		t.Fatalf("Get = %q, want empty", got)
	}
}

func testUnknownSize(t *testing.T, b backend.Backend) {
	x := newBlob("size not known up front")
	if err := b.Put(context.Background(), x.d, bytes.NewReader(x.data), -1); err != nil {
		t.Fatalf("Put(size -1): %v", err)
	}
	if got := mustGet(t, b, x.d); !bytes.Equal(got, x.data) {
		t.Fatalf("Get = %q", got)
	}
}

func testDigestMismatch(t *testing.T, b backend.Backend) {
	x, y := newBlob("claimed"), newBlob("actual!")
	err := b.Put(context.Background(), x.d, bytes.NewReader(y.data), int64(len(y.data)))
	wantErr(t, err, backend.ErrDigestMismatch)
	wantAbsent(t, b, x.d)
	wantAbsent(t, b, y.d)
}

func testSizeShort(t *testing.T, b backend.Backend) {
	x := newBlob("twelve bytes")
	err := b.Put(context.Background(), x.d, bytes.NewReader(x.data), 5)
	wantErr(t, err, backend.ErrSizeMismatch)
	wantAbsent(t, b, x.d)
}

func testSizeLong(t *testing.T, b backend.Backend) {
	x := newBlob("twelve bytes")
	err := b.Put(context.Background(), x.d, bytes.NewReader(x.data), 100)
	wantErr(t, err, backend.ErrSizeMismatch)
	wantAbsent(t, b, x.d)
}

var errBroken = errors.New("broken reader")

type brokenReader struct{ n int }

func (r *brokenReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errBroken
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

func testReaderError(t *testing.T, b backend.Backend) {
	x := newBlob("never fully read")
	err := b.Put(context.Background(), x.d, &brokenReader{n: 4}, int64(len(x.data)))
	wantErr(t, err, errBroken)
	wantAbsent(t, b, x.d)
}

func testCancelledPut(t *testing.T, b backend.Backend) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x := newBlob("cancelled")
	err := b.Put(ctx, x.d, bytes.NewReader(x.data), int64(len(x.data)))
	wantErr(t, err, context.Canceled)
	wantAbsent(t, b, x.d)
}

func testPutExisting(t *testing.T, b backend.Backend) {
	x := newBlob("twice")
	put(t, b, x)
	put(t, b, x)
	if got := mustGet(t, b, x.d); !bytes.Equal(got, x.data) {
		t.Fatalf("Get = %q", got)
	}
}

func testConcurrentSame(t *testing.T, b backend.Backend) {
	x := newBlob(string(bytes.Repeat([]byte("concurrent "), 50000)))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			errs <- b.Put(context.Background(), x.d, bytes.NewReader(x.data), int64(len(x.data)))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Put: %v", err)
		}
	}
	if got := mustGet(t, b, x.d); !bytes.Equal(got, x.data) {
		t.Fatalf("Get returned %d bytes, want %d", len(got), len(x.data))
	}
	assertList(t, b, []backend.Digest{x.d})
}

func testMissing(t *testing.T, b backend.Backend) {
	d := newBlob("absent").d
	ctx := context.Background()
	_, err := b.Get(ctx, d)
	wantErr(t, err, backend.ErrNotFound)
	_, err = b.Stat(ctx, d)
	wantErr(t, err, backend.ErrNotFound)
	wantErr(t, b.Delete(ctx, d), backend.ErrNotFound)
}

func testInvalidDigest(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	for _, d := range []backend.Digest{"", "sha256:", "sha256:../../etc/passwd", "md5:abcd",
		"sha256:" + backend.Digest(bytes.Repeat([]byte("A"), 64))} {
		wantErr(t, b.Put(ctx, d, bytes.NewReader(nil), 0), backend.ErrInvalidDigest)
		_, err := b.Get(ctx, d)
		wantErr(t, err, backend.ErrInvalidDigest)
		_, err = b.Stat(ctx, d)
		wantErr(t, err, backend.ErrInvalidDigest)
		wantErr(t, b.Delete(ctx, d), backend.ErrInvalidDigest)
	}
	assertList(t, b, nil)
}

func listAll(t *testing.T, b backend.Backend) []backend.Digest {
	t.Helper()
	var got []backend.Digest
	if err := b.List(context.Background(), func(d backend.Digest) error {
		got = append(got, d)
		return nil
	}); err != nil {
		t.Fatalf("List: %v", err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	return got
}

func assertList(t *testing.T, b backend.Backend, want []backend.Digest) {
	t.Helper()
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	got := listAll(t, b)
	if len(got) != len(want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("List = %v, want %v", got, want)
		}
	}
}

func testList(t *testing.T, b backend.Backend) {
	var want []backend.Digest
	for _, s := range []string{"a", "b", "c", "d"} {
		x := newBlob(s)
		put(t, b, x)
		want = append(want, x.d)
	}
	assertList(t, b, want)
}

func testListStops(t *testing.T, b backend.Backend) {
	put(t, b, newBlob("one"))
	put(t, b, newBlob("two"))
	stop := errors.New("stop")
	calls := 0
	err := b.List(context.Background(), func(backend.Digest) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("List = %v after %d calls, want the fn error after 1 call", err, calls)
	}
}

func testDelete(t *testing.T, b backend.Backend) {
	x, y := newBlob("keep"), newBlob("drop")
	put(t, b, x)
	put(t, b, y)
	if err := b.Delete(context.Background(), y.d); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, b, y.d)
	assertList(t, b, []backend.Digest{x.d})
}
