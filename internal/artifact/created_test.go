package artifact

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestCreatedFromEnv(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want time.Time
		err  bool
	}{
		{nil, time.Time{}, false},
		{[]string{"SOURCE_DATE_EPOCH="}, time.Time{}, false},
		{[]string{"SOURCE_DATE_EPOCH=1764158400"}, time.Date(2025, 11, 26, 12, 0, 0, 0, time.UTC), false},
		{[]string{"SOURCE_DATE_EPOCH=1", "PATH=/bin", "SOURCE_DATE_EPOCH=0"}, time.Unix(0, 0).UTC(), false},
		{[]string{"SOURCE_DATE_EPOCH_X=5"}, time.Time{}, false},
		{[]string{"SOURCE_DATE_EPOCH=yesterday"}, time.Time{}, true},
		{[]string{"SOURCE_DATE_EPOCH=-1"}, time.Time{}, true},
		{[]string{"SOURCE_DATE_EPOCH=1.5"}, time.Time{}, true},
		{[]string{"SOURCE_DATE_EPOCH=99999999999999"}, time.Time{}, true},
	} {
		got, err := CreatedFromEnv(c.env)
		if (err != nil) != c.err || !got.Equal(c.want) {
			t.Errorf("%q: %v, %v; want %v, error %v", c.env, got, err, c.want, c.err)
		}
		if err != nil && !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
			t.Errorf("%q: the error does not name the variable: %v", c.env, err)
		}
	}
}

// TestBuildIsReproducibleWithSourceDateEpoch: two builds of the same
// folder into different stores give the same manifest and the same
// artifact file when the creation time is pinned, and the pinned time is
// the one recorded (Build takes the clock only when none is given).
func TestBuildIsReproducibleWithSourceDateEpoch(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{
		"index.html":  []byte("<!doctype html><script src=/assets/a.js></script>"),
		"assets/a.js": []byte("x()"),
	})
	created, err := CreatedFromEnv([]string{"SOURCE_DATE_EPOCH=1764158400"})
	if err != nil {
		t.Fatal(err)
	}
	build := func() ([]byte, []byte) {
		store := newLocal(t)
		m, err := Build(context.Background(), dir, store, BuildOptions{Meta: Meta{Project: "p", Release: "v1", Created: created}})
		if err != nil {
			t.Fatal(err)
		}
		if !m.Meta.Created.Equal(created) {
			t.Fatalf("created %v, want %v", m.Meta.Created, created)
		}
		canon, err := m.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		var tar bytes.Buffer
		if err := Export(context.Background(), &tar, m, nil, store); err != nil {
			t.Fatal(err)
		}
		return canon, tar.Bytes()
	}
	m1, a1 := build()
	m2, a2 := build()
	if !bytes.Equal(m1, m2) || !bytes.Equal(a1, a2) {
		t.Fatalf("two builds differ:\n%s\n%s", m1, m2)
	}
	if !strings.Contains(string(m1), `"created":"2025-11-26T12:00:00Z"`) {
		t.Fatalf("manifest %s", m1)
	}
}
