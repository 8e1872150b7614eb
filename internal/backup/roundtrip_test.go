package backup

import (
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	data, want := dataDir(t)
	big := make([]byte, memObjectLimit+chunkSize+7) // through the temporary-file path
	rand.Read(big)
	writeFile(t, data, "runs/big.bin", big, 0o755)
	want["runs/big.bin"] = file{big, 0o755}

	var last, total int64
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	s, err := r.Create(ctx, CreateOptions{DataDir: data, Host: "h", Version: "v1", Now: fixedNow(at),
		Progress: func(done, tot int64) { last, total = done, tot }})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != len(want) || last != total || total != s.Size {
		t.Errorf("snapshot has %d files, progress %d/%d, size %d; want %d files", len(s.Files), last, total, s.Size, len(want))
	}
	list, err := r.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != s.ID || !list[0].Time.Equal(at) || list[0].Host != "h" || list[0].Files != len(want) {
		t.Fatalf("List = %+v, %v", list, err)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := r.Restore(ctx, s.ID[:6], dst, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, dst), want)
}

func TestRoundTripSQLite(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	data, want := dataDir(t)
	delete(want, "state.db")
	for _, n := range []string{"state.db", "state.db-wal", "state.db-shm"} {
		os.Remove(filepath.Join(data, n))
	}
	db := openDB(t, filepath.Join(data, "state.db"))
	if _, err := db.Exec(`CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('kept through the backup')`); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(data, "state.db-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("the live database has no write-ahead log to leave out: %v", err)
	}
	snap := func(ctx context.Context, dst string) error {
		_, err := db.ExecContext(ctx, "VACUUM INTO ?", dst)
		return err
	}
	s, err := r.Create(ctx, CreateOptions{DataDir: data, SnapshotDB: snap})
	if err != nil {
		t.Fatal(err)
	}
	if s.Host == "" {
		t.Error("Host did not default to the host name")
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := r.Restore(ctx, "latest", dst, nil); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, dst)
	delete(got, "state.db")
	sameTree(t, got, want)
	var v string
	if err := openDB(t, filepath.Join(dst, "state.db")).QueryRow(`SELECT v FROM t`).Scan(&v); err != nil || v != "kept through the backup" {
		t.Errorf("restored row = %q, %v", v, err)
	}
}

// openDB opens a SQLite database in WAL mode, like the server does.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestCreateRefusesLiveWAL(t *testing.T) {
	r, _ := newRepo(t)
	data, _ := dataDir(t)
	writeFile(t, data, "state.db-wal", []byte("uncheckpointed"), 0o600)
	_, err := r.Create(context.Background(), CreateOptions{DataDir: data})
	if err == nil {
		t.Fatal("Create copied state.db while its WAL held data")
	}
}

// A repository inside the data dir is not backed up into itself.
func TestRepoInsideDataDir(t *testing.T) {
	data, want := dataDir(t)
	r, err := Init(context.Background(), filepath.Join(data, "backups"), testPass, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	create(t, r, data, time.Now())
	s := create(t, r, data, time.Now())
	if len(s.Files) != len(want) || s.Added != 0 {
		t.Errorf("second snapshot has %d files (want %d) and added %d bytes", len(s.Files), len(want), s.Added)
	}
}

// TestDatabaseBeforeFiles: a blob that appears right after the database
// copy (a deployment finishing then, which the copy may already name) is
// in the snapshot, because the files are walked after the copy.
func TestDatabaseBeforeFiles(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	data, _ := dataDir(t)
	var late string
	snap := func(_ context.Context, dst string) error {
		late = addBlob(t, data, []byte("a blob the copied database already names"))
		return os.WriteFile(dst, []byte("database copy"), 0o600)
	}
	s, err := r.Create(ctx, CreateOptions{DataDir: data, SnapshotDB: snap})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Files {
		if e.Path == late {
			return
		}
	}
	t.Fatalf("the snapshot misses %s, added after the database copy", late)
}
