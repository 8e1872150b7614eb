package osv

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const realData = "../../../../shared/data/osv-npm"

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func importReal(t *testing.T) *DB {
	t.Helper()
	dir := t.TempDir()
	meta, err := Import(context.Background(), realData, dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Advisories != 28 || len(meta.Problems) != 0 {
		t.Fatalf("meta %+v", meta)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func affectedIDs(t *testing.T, db *DB, eco, name, version string) map[string]string {
	t.Helper()
	recs, err := db.Lookup(eco, name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range recs {
		hit, fixed, err := r.Match(version)
		if err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
		if hit {
			out[r.ID] = fixed
		}
	}
	return out
}

func TestRealAdvisories(t *testing.T) {
	db := importReal(t)
	for _, tc := range []struct {
		name, version string
		want          map[string]string // id -> first fixed
	}{
		{"lodash", "4.17.20", map[string]string{"GHSA-29mw-wpgm-hmr9": "4.17.21", "GHSA-35jh-r3h4-6jhm": "4.17.21"}},
		{"lodash", "4.17.21", map[string]string{}},
		{"lodash", "4.17.4", map[string]string{"GHSA-29mw-wpgm-hmr9": "4.17.21", "GHSA-35jh-r3h4-6jhm": "4.17.21",
			"GHSA-4xc9-xhrj-v574": "4.17.11", "GHSA-jf85-cpcp-j695": "4.17.12", "GHSA-p6mc-m468-83gw": "4.17.20"}},
		{"event-stream", "3.3.6", map[string]string{"GHSA-mh6f-8j2x-4483": "4.0.0"}}, // also in the explicit versions list
		{"event-stream", "3.3.5", map[string]string{}},
		{"word-wrap", "1.2.3", map[string]string{}}, // published under "GitHub Actions", not npm
		{"json5", "2.2.1", map[string]string{"GHSA-9c47-m6qq-7p4h": "2.2.2"}},
		{"json5", "1.0.1", map[string]string{"GHSA-9c47-m6qq-7p4h": "1.0.2"}},
		{"semver", "7.5.1", map[string]string{"GHSA-c2qf-rxjj-qqgw": "7.5.2"}},
		{"semver", "6.3.0", map[string]string{"GHSA-c2qf-rxjj-qqgw": "6.3.1"}},
		{"express", "4.19.2", map[string]string{"GHSA-qw6h-vgh9-j6wx": "4.20.0"}},
		{"follow-redirects", "1.15.6", map[string]string{}},
	} {
		t.Run(tc.name+"@"+tc.version, func(t *testing.T) {
			got := affectedIDs(t, db, "npm", tc.name, tc.version)
			if len(got) != len(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for id, fixed := range tc.want {
				if f, ok := got[id]; !ok || f != fixed {
					t.Errorf("%s: affected=%v fixed=%q, want fixed %q", id, ok, f, fixed)
				}
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	db := importReal(t)
	for _, tc := range []struct{ name, id, want string }{
		{"lodash", "GHSA-29mw-wpgm-hmr9", "moderate (5.3)"}, // CVSS 3.1 vector
		{"lodash", "GHSA-4xc9-xhrj-v574", "high"},           // database_specific only
		{"node-ipc", "GHSA-97m3-w2cp-4xx6", "critical (9.8)"},
	} {
		recs, _ := db.Lookup("npm", tc.name)
		found := false
		for _, r := range recs {
			if r.ID == tc.id {
				found = true
				if got := r.Severity.String(); got != tc.want {
					t.Errorf("%s: %s, want %s", tc.id, got, tc.want)
				}
			}
		}
		if !found {
			t.Errorf("%s not found", tc.id)
		}
	}
}

func TestCVSS3(t *testing.T) {
	for vec, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 9.8,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L": 5.3,
		"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H": 9.9,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H": 7.5,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N": 6.1,
		"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N": 5.9,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N": 0,
	} {
		if got, ok := CVSS3Score(vec); !ok || got != want {
			t.Errorf("%s: %v %v, want %v", vec, got, ok, want)
		}
	}
	for _, bad := range []string{"", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "CVSS:4.0/AV:N", "CVSS:3.1/AV:N"} {
		if _, ok := CVSS3Score(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRanges(t *testing.T) {
	ev := func(kv ...string) []Event {
		var out []Event
		for i := 0; i < len(kv); i += 2 {
			switch kv[i] {
			case "i":
				out = append(out, Event{Introduced: kv[i+1]})
			case "f":
				out = append(out, Event{Fixed: kv[i+1]})
			case "l":
				out = append(out, Event{LastAffected: kv[i+1]})
			}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		eco     string
		events  []Event
		version string
		want    bool
		fixed   string
	}{
		{"below introduced", "npm", ev("i", "1.2.0", "f", "1.3.0"), "1.1.9", false, ""},
		{"at introduced", "npm", ev("i", "1.2.0", "f", "1.3.0"), "1.2.0", true, "1.3.0"},
		{"at fixed", "npm", ev("i", "1.2.0", "f", "1.3.0"), "1.3.0", false, ""},
		{"prerelease below fixed", "npm", ev("i", "0", "f", "2.0.0"), "2.0.0-rc.1", true, "2.0.0"},
		{"last_affected inclusive", "npm", ev("i", "0", "l", "1.4.2"), "1.4.2", true, ""},
		{"above last_affected", "npm", ev("i", "0", "l", "1.4.2"), "1.4.3", false, ""},
		{"second window", "npm", ev("i", "0", "f", "1.0.5", "i", "2.0.0", "f", "2.1.1"), "2.1.0", true, "2.1.1"},
		{"between windows", "npm", ev("i", "0", "f", "1.0.5", "i", "2.0.0", "f", "2.1.1"), "1.9.0", false, ""},
		{"unsorted events", "npm", ev("f", "2.1.1", "i", "2.0.0", "f", "1.0.5", "i", "0"), "1.0.4", true, "1.0.5"},
		{"go v prefix", "Go", ev("i", "0", "f", "0.3.8"), "v0.3.7", true, "0.3.8"},
		{"go pseudo", "Go", ev("i", "0", "f", "0.0.0-20220315160706-3147a52a75dd"), "v0.0.0-20211112202133-69e39bad7dc2", true, "0.0.0-20220315160706-3147a52a75dd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Record{ID: "T-1", Ecosystem: tc.eco, Name: "p", Ranges: []Range{{Type: "ECOSYSTEM", Events: tc.events}}}
			hit, fixed, err := r.Match(tc.version)
			if err != nil || hit != tc.want || fixed != tc.fixed {
				t.Errorf("Match(%s) = %v %q %v, want %v %q", tc.version, hit, fixed, err, tc.want, tc.fixed)
			}
		})
	}
}

func TestImportZipAndProblems(t *testing.T) {
	src := t.TempDir()
	zpath := filepath.Join(src, "all.zip")
	zf, _ := os.Create(zpath)
	zw := zip.NewWriter(zf)
	files, _ := filepath.Glob(filepath.Join(realData, "*.json"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		w, _ := zw.Create(filepath.Base(f))
		w.Write(data)
	}
	w, _ := zw.Create("BAD-1.json")
	w.Write([]byte(`{"id":"BAD-1","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}`))
	w, _ = zw.Create("BAD-2.json")
	w.Write([]byte(`{"id":`))
	zw.Close()
	zf.Close()
	dir := t.TempDir()
	meta, err := Import(context.Background(), zpath, dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Advisories != 28 || len(meta.Problems) != 2 {
		t.Fatalf("advisories %d problems %v", meta.Advisories, meta.Problems)
	}
	for _, want := range []string{"all.zip!BAD-1.json: advisory BAD-1: affected[0].ranges[0]: events[0] must set exactly one", "all.zip!BAD-2.json"} {
		if !strings.Contains(strings.Join(meta.Problems, "\n"), want) {
			t.Errorf("problems %v lack %q", meta.Problems, want)
		}
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := affectedIDs(t, db, "npm", "minimist", "1.2.5"); len(got) != 1 {
		t.Errorf("minimist 1.2.5: %v", got)
	}
	if !db.Meta.ImportedAt.Equal(now) {
		t.Errorf("imported at %v", db.Meta.ImportedAt)
	}
	if w := db.StaleWarning(now.Add(40*24*time.Hour), 30*24*time.Hour); !strings.Contains(w, "40 days ago") {
		t.Errorf("stale warning %q", w)
	}
	if w := db.StaleWarning(now.Add(24*time.Hour), 30*24*time.Hour); w != "" {
		t.Errorf("fresh db warned: %q", w)
	}
	for limit, want := range map[time.Duration]string{
		time.Second:      "(7380 seconds ago, limit 1 second)",
		90 * time.Minute: "(123 minutes ago, limit 90 minutes)",
		time.Hour:        "(2 hours ago, limit 1 hour)",
	} {
		if w := db.StaleWarning(now.Add(2*time.Hour+3*time.Minute), limit); !strings.Contains(w, want) {
			t.Errorf("limit %v: stale warning %q, want %q", limit, w, want)
		}
	}
}

// TestMetaOfAnOlderImport: meta.json is written in snake_case; one an
// older phoenix wrote (importedAt, newestModified) still gives the
// database its age.
func TestMetaOfAnOlderImport(t *testing.T) {
	db := importReal(t)
	path := filepath.Join(db.dir, MetaFile)
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), `"imported_at"`) || !strings.Contains(string(b), `"newest_modified"`) {
		t.Fatalf("meta.json: %v\n%s", err, b)
	}
	old := strings.NewReplacer(`"imported_at"`, `"importedAt"`, `"newest_modified"`, `"newestModified"`).Replace(string(b))
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	older, err := Open(db.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer older.Close()
	if !older.Meta.ImportedAt.Equal(now) || older.Meta.Newest.IsZero() || !older.Meta.Newest.Equal(db.Meta.Newest) ||
		older.Meta.Advisories != db.Meta.Advisories {
		t.Errorf("meta of an older import: %+v, want %+v", older.Meta, db.Meta)
	}
}

func TestOpenMissingAndCorrupt(t *testing.T) {
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "advisories import") {
		t.Errorf("missing: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, MetaFile), []byte(`{}`), 0o644)
	os.WriteFile(filepath.Join(dir, IndexFile), []byte("garbage"), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "corrupt index") {
		t.Errorf("corrupt: %v", err)
	}
}
