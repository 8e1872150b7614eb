package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	r, repo := newRepo(t)
	r.Close()

	t.Run("right passphrase", func(t *testing.T) {
		r2, err := Open(ctx, repo, testPass)
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Close()
		if r2.ID() != r.ID() || len(r2.ID()) != 32 {
			t.Errorf("ID = %q, want %q", r2.ID(), r.ID())
		}
	})
	t.Run("wrong passphrase", func(t *testing.T) {
		_, err := Open(ctx, repo, []byte("correct horse battery stapl"))
		if !errors.Is(err, ErrWrongKey) {
			t.Fatalf("err = %v, want ErrWrongKey", err)
		}
	})
	t.Run("init twice", func(t *testing.T) {
		_, err := Init(ctx, repo, testPass, testKDF)
		if !errors.Is(err, ErrExists) {
			t.Fatalf("err = %v, want ErrExists", err)
		}
	})
	t.Run("empty dir", func(t *testing.T) {
		_, err := Open(ctx, t.TempDir(), testPass)
		if !errors.Is(err, ErrNotRepo) {
			t.Fatalf("err = %v, want ErrNotRepo", err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		_, err := Open(ctx, filepath.Join(t.TempDir(), "nope"), testPass)
		if !errors.Is(err, ErrNotRepo) {
			t.Fatalf("err = %v, want ErrNotRepo", err)
		}
	})
	t.Run("doctored costs", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, configFile), []byte(`{"format":1,"id":"00000000000000000000000000000000","kdf":{"time":1,"memory_kib":4294967295,"threads":1},"salt":"AAAAAAAAAAAAAAAAAAAAAA==","key":{"nonce":null,"sealed":null},"created":"2025-01-01T00:00:00Z"}`), 0o600)
		_, err := Open(ctx, dir, testPass)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
}

func TestInitChecks(t *testing.T) {
	ctx := context.Background()
	if _, err := Init(ctx, filepath.Join(t.TempDir(), "r"), nil, testKDF); err == nil {
		t.Error("Init accepted an empty passphrase")
	}
	if _, err := Init(ctx, filepath.Join(t.TempDir(), "r"), testPass, KDFParams{}); err == nil {
		t.Error("Init accepted zero argon2id costs")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o600)
	if _, err := Init(ctx, dir, testPass, testKDF); !errors.Is(err, ErrExists) {
		t.Errorf("Init on a non-empty dir: %v", err)
	}
}

func TestClosed(t *testing.T) {
	r, _ := newRepo(t)
	r.Close()
	if _, err := r.List(context.Background()); err == nil {
		t.Error("List worked on a closed repository")
	}
}

func TestLocked(t *testing.T) {
	r, repo := newRepo(t)
	unlock, err := lockRepo(repo, false)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := r.Prune(context.Background()); !errors.Is(err, ErrLocked) {
		t.Errorf("Prune while a reader holds the lock: %v, want ErrLocked", err)
	}
	if _, err := r.List(context.Background()); err != nil {
		t.Errorf("List next to another reader: %v", err)
	}
	data, _ := dataDir(t)
	if _, err := r.Create(context.Background(), CreateOptions{DataDir: data}); err != nil {
		t.Errorf("Create next to a reader (a listing, a restore): %v", err)
	}
	unlock()
	unlock, err = lockRepo(repo, true) // a prune elsewhere
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := r.Create(context.Background(), CreateOptions{DataDir: data}); !errors.Is(err, ErrLocked) {
		t.Errorf("Create while a prune holds the lock: %v, want ErrLocked", err)
	}
}
