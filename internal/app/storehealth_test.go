package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/store"
)

// fullDisk is a data dir's filesystem with no room left: the write probe
// fails as a full disk's write does (ENOSPC) and statfs says 1 MiB of 1 GiB
// is free.
func fullDisk(o *Options) {
	o.probeFile = func(dir string) error {
		return fmt.Errorf("write probe in %s: %w", dir, &os.PathError{Op: "write", Path: filepath.Join(dir, ".tmp-health-1"), Err: syscall.ENOSPC})
	}
	o.diskSpace = func(string) (uint64, uint64, error) { return 1 << 20, 1 << 30, nil }
}

// healthOf gets /api/v1/health.
func healthOf(t *testing.T, a *App) (int, healthBody) {
	t.Helper()
	resp, err := http.Get(a.APIURL() + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b healthBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

type healthBody struct {
	Status string
	Checks map[string]string
	Disks  []struct {
		Name        string
		FreeBytes   uint64  `json:"free_bytes"`
		FreePercent float64 `json:"free_percent"`
		Low         bool
	}
}

// TestHealthSaysTheDiskIsFull: with the data dir's disk full, the health
// endpoint answered 200 "store: ok"; it answers 503 naming the full disk
// and shows the room left in each folder, flagged low.
func TestHealthSaysTheDiskIsFull(t *testing.T) {
	t.Parallel()
	o := Options{DataDir: t.TempDir(), Proc: "-", DiskAlertFree: DiskThreshold{Percent: 5}}
	fullDisk(&o)
	a := startOpts(t, o)
	code, b := healthOf(t, a)
	if code != http.StatusServiceUnavailable || b.Status != "degraded" || b.Checks["store"] != "disk full (data dir)" {
		t.Fatalf("health = %d %+v; want 503, store: disk full (data dir)", code, b)
	}
	if len(b.Disks) != 2 || b.Disks[0].Name != "data dir" || !b.Disks[0].Low || b.Disks[0].FreeBytes != 1<<20 || b.Disks[0].FreePercent != 0.1 {
		t.Fatalf("disks = %+v; want the data dir and the blob dir, 1 MiB (0.1%%) free, low", b.Disks)
	}
}

// TestHealthOfAWorkingStore: a store that commits and folders that take
// writes are ok, with their real free space and no leftover probe file.
func TestHealthOfAWorkingStore(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	code, b := healthOf(t, a)
	if code != http.StatusOK || b.Checks["store"] != "ok" || len(b.Disks) != 2 || b.Disks[1].Name != "blob dir" || b.Disks[0].FreeBytes == 0 {
		t.Fatalf("health = %d %+v", code, b)
	}
	for _, dir := range []string{a.opts.DataDir, filepath.Join(a.opts.DataDir, "blobs")} {
		if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-health-*")); len(left) > 0 {
			t.Fatalf("probe files left: %v", left)
		}
	}
}

// TestFullDiskAlerts: a full data dir fires the built-in disk-low alert at
// once and store-write-failing at the second evaluation, as server
// instances; nothing fired before.
func TestFullDiskAlerts(t *testing.T) {
	t.Parallel()
	o := Options{DataDir: t.TempDir(), Proc: "-", DiskAlertFree: DiskThreshold{Bytes: 1 << 30}}
	fullDisk(&o)
	a := startOpts(t, o)
	dataDir, store := a.opts.DataDir, a.DB.Where()
	disks := alertsFiring(t, a, monitor.DiskRule) // certificates_test.go
	if d := disks["disk:"+dataDir]; !strings.Contains(d.Summary, "1 MiB free of 1 GiB (0.1%)") || !monitor.ServerInstance(d.Environment) {
		t.Fatalf("first evaluation: disk-low firing %v; want the data dir's, 1 MiB free", disks)
	}
	as, err := a.Monitor.Alerts(context.Background(), false)
	for _, al := range as {
		if al.Rule == monitor.StoreWriteRule && al.State != monitor.StatePending {
			t.Fatalf("first evaluation: %s %s; want pending (it fires at the second)", al.ID, al.State)
		}
	}
	if err != nil || len(as) != 3 {
		t.Fatalf("first evaluation: alerts %+v, %v; want disk-low on both folders, store-write-failing pending", as, err)
	}
	writes := alertsFiring(t, a, monitor.StoreWriteRule)
	if w := writes["store:"+store]; !strings.Contains(w.Summary, "disk full (data dir)") {
		t.Fatalf("second evaluation: store-write-failing firing %v; want the store's, saying disk full", writes)
	}
}

// TestAPIErrorNamesAFullDisk: an API call that fails on a full disk
// (SQLite's "database or disk is full", a blob's ENOSPC) answered 500
// "internal error"; it answers 503 saying the server's disk is full and
// which data dir. Other errors stay internal.
func TestAPIErrorNamesAFullDisk(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	h := api.New(api.Options{Explain: a.explainErr})
	var fail error
	h.Handle(api.Route{Method: "GET", Path: "/api/v1/fail", Public: true, Summary: "fails",
		Handler: func(w http.ResponseWriter, r *http.Request) { api.WriteError(w, r, fail) }})
	srv := httptest.NewServer(h.Handler())
	defer srv.Close()
	call := func() (int, api.Error) {
		resp, err := http.Get(srv.URL + "/api/v1/fail")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e api.Error
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	want := fmt.Sprintf("the server's disk is full (data dir %s)", a.opts.DataDir)
	for _, err := range []error{sqliteFull(t), fmt.Errorf("put: %w", &os.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC})} {
		fail = err
		if code, e := call(); code != http.StatusServiceUnavailable || e.Message != want || e.Code != "unavailable" {
			t.Fatalf("%v: %d %+v; want 503 %q", err, code, e, want)
		}
	}
	fail = fmt.Errorf("something else")
	if code, e := call(); code != http.StatusInternalServerError || strings.Contains(e.Message, "something") {
		t.Fatalf("a plain error: %d %+v", code, e)
	}
}

// sqliteFull returns the error of a commit SQLite refused for want of
// room.
func sqliteFull(t *testing.T) error {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"CREATE TABLE f (b BLOB)", "PRAGMA max_page_count = 16"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		if _, err := db.ExecContext(ctx, "INSERT INTO f (b) VALUES (zeroblob(4096))"); err != nil {
			return fmt.Errorf("store: commit: %w", err)
		}
	}
	t.Fatal("SQLite took 400 KiB in 16 pages")
	return nil
}

func TestParseDiskThreshold(t *testing.T) {
	for s, want := range map[string]DiskThreshold{"5%": {Percent: 5}, "0.5 %": {Percent: 0.5}, "1GiB": {Bytes: 1 << 30},
		"500MiB": {Bytes: 500 << 20}, "1.5 GiB": {Bytes: 3 << 29}, "0": {}} {
		if got, err := ParseDiskThreshold(s); err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "5", "100%", "-1%", "x%", "1GB", "-1GiB", "GiB", "1e30TiB"} {
		if _, err := ParseDiskThreshold(s); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", strings.TrimSpace(s))) {
			t.Errorf("%q: %v; want an error naming it", s, err)
		}
	}
	if !(DiskThreshold{Percent: 5}).low(4, 100) || (DiskThreshold{Percent: 5}).low(5, 100) || (DiskThreshold{}).low(0, 100) ||
		!(DiskThreshold{Bytes: 10}).low(9, 100) {
		t.Error("low compares wrongly")
	}
}

func FuzzParseDiskThreshold(f *testing.F) {
	for _, s := range []string{"5%", "1GiB", "0", "1e308TiB", "NaN%", "Inf GiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseDiskThreshold(s)
		if err == nil && (th.Percent < 0 || th.Percent >= 100 || th.Percent != th.Percent) {
			t.Fatalf("%q: %+v", s, th)
		}
	})
}
