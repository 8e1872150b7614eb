package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/backup"
)

// TestRestoreSaysHowToStart: 'phoenix backup restore' of a snapshot of a
// server on SQLite says to start a server on the folder; of one on
// PostgreSQL (it holds state.pgdump, no state.db), it gives the steps of
// docs/backup.md (load the dump into a new database, start with
// --database-url), not a --data-only start the server refuses.
func TestRestoreSaysHowToStart(t *testing.T) {
	cases := []struct {
		dbFile string
		want   []string
		not    string
	}{
		{"state.db", []string{"start it with: phoenix server --data TO --master-key-file MASTER_KEY\n", "the vault's master key is in no backup"}, "pg_restore"},
		{"state.pgdump", []string{"PostgreSQL dump (TO/state.pgdump)", "createdb -h HOST",
			"pg_restore -h HOST -U phoenix --dbname phoenix_restored --no-owner TO/state.pgdump",
			"phoenix server --data TO --database-url postgres://phoenix@HOST:5432/phoenix_restored --master-key-file MASTER_KEY",
			"the vault's master key is in no backup"}, "start it with"},
	}
	for _, tc := range cases {
		t.Run(tc.dbFile, func(t *testing.T) {
			const key = "a backup key for this test only"
			repo := snapshotRepo(t, key, tc.dbFile)
			to := filepath.Join(t.TempDir(), "restored")
			t.Setenv(BackupKeyEnv, key)
			var out, errb bytes.Buffer
			if code := Main([]string{"backup", "restore", "latest", "--repo", repo, "--to", to}, nil, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			got := strings.ReplaceAll(out.String(), to, "TO")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			if strings.Contains(got, tc.not) {
				t.Errorf("output has %q:\n%s", tc.not, got)
			}
		})
	}
}

// snapshotRepo makes a repository holding one snapshot of a data dir
// whose database copy is kept as dbFile.
func snapshotRepo(t *testing.T, key, dbFile string) string {
	t.Helper()
	ctx := context.Background()
	repo, data := filepath.Join(t.TempDir(), "repo"), t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "admin.token"), []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := backup.Init(ctx, repo, []byte(key), backup.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Create(ctx, backup.CreateOptions{DataDir: data, DBFile: dbFile,
		SnapshotDB: func(_ context.Context, dst string) error { return os.WriteFile(dst, []byte("a database"), 0o600) }})
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// TestBackupCreateWithoutAServerNamesTheFlags: with no server on the data
// dir, 'phoenix backup create' without --repo starts one that has no
// repository; it said "start it with --backup-repo", a server flag, to a
// user who started nothing. It now names --repo and --key-file, as a
// usage error, before any backup is attempted.
func TestBackupCreateWithoutAServerNamesTheFlags(t *testing.T) {
	unsetEnv(t, "PHOENIX_BACKUP_REPO", "PHOENIX_BACKUP_KEY_FILE", "PHOENIX_BACKUP_KEY", "PHOENIX_SERVER")
	data := madeDataDir(t)
	_, errs, code := run("backup", "create", "--data", data)
	if code != 2 || !strings.Contains(errs, "no server runs on "+data) || !strings.Contains(errs, "pass --repo DIR and --key-file FILE") ||
		strings.Contains(errs, "taking a backup") {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
}

// TestBackupWrongKeyExitsTwoOnEveryPath: a key that does not open the
// repository made 'phoenix backup list/verify/restore --repo' exit 1 and
// 'phoenix backup create --repo' (whose in-process server opens the
// repository at start, as 'phoenix server --backup-key-file' does) exit 2,
// with another message ("restart the server"). Both are the command given
// the wrong key, so both are a usage error (exit 2, as docs/backup.md says
// of the server) in the same words.
func TestBackupWrongKeyExitsTwoOnEveryPath(t *testing.T) {
	unsetEnv(t, "PHOENIX_BACKUP_REPO", "PHOENIX_BACKUP_KEY_FILE", BackupKeyEnv, "PHOENIX_SERVER", "PHOENIX_MASTER_KEY", masterKeyFileEnv)
	repo := snapshotRepo(t, "the key of this backup repository", "state.db")
	wrong := filepath.Join(t.TempDir(), "wrong.key")
	if err := os.WriteFile(wrong, []byte("not the key of this repository\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "error: the key does not open the backup repository " + repo + "\n" +
		"hint: give the key the repository was made with (--key-file or PHOENIX_BACKUP_KEY)\n"
	key := []string{"--repo", repo, "--key-file", wrong}
	for _, args := range [][]string{
		{"backup", "list"},
		{"backup", "verify", "latest"},
		{"backup", "restore", "latest", "--to", filepath.Join(t.TempDir(), "restored")},
		{"backup", "create", "--data", madeDataDir(t)},
	} {
		out, errs, code := run(append(args, key...)...)
		if code != 2 || errs != want || out != "" {
			t.Errorf("phoenix %s: exit %d:\n%s%swant exit 2:\n%s", strings.Join(args[:2], " "), code, out, errs, want)
		}
	}
}

// TestBackupVerifySaysTheSnapshotIsSound: 'phoenix backup verify' of a
// sound snapshot says what it found ("snapshot …: 1 files, … read" said
// only what it read, so a drill's log did not show the verdict).
func TestBackupVerifySaysTheSnapshotIsSound(t *testing.T) {
	unsetEnv(t, "PHOENIX_BACKUP_REPO", "PHOENIX_BACKUP_KEY_FILE", BackupKeyEnv, "PHOENIX_SERVER")
	const key = "the key of this backup repository"
	repo := snapshotRepo(t, key, "state.db")
	keyFile := filepath.Join(t.TempDir(), "backup.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run("backup", "verify", "--repo", repo, "--key-file", keyFile)
	if code != 0 || !strings.HasSuffix(out, " read: every file decrypted and matches its digest\n") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
}

// madeDataDir is a data dir as the first command run on it leaves it.
func madeDataDir(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	mustRun(t, "", "user", "list", "--data", data)
	return data
}

// TestBackupCommandsMakeNoDataDir: on a machine being recovered, with
// PHOENIX_DATA set to where the restore goes and no server yet, 'phoenix
// backup list' (or status, or create) started a server in-process there,
// which made a new, empty Phoenix in the folder; it answered "start it with
// --backup-repo", and the restore into the folder was then refused as not
// empty ('create --repo' even added the empty server to the repository as
// its latest snapshot). They refuse with exit 2 before anything starts, and
// the folder stays as it was for the restore. On a data dir with no server,
// 'list' names --repo and --key-file, as 'create' does.
func TestBackupCommandsMakeNoDataDir(t *testing.T) {
	unsetEnv(t, "PHOENIX_BACKUP_REPO", "PHOENIX_BACKUP_KEY_FILE", BackupKeyEnv, "PHOENIX_SERVER", "PHOENIX_MASTER_KEY", masterKeyFileEnv)
	const key = "the key of this backup repository"
	repo := snapshotRepo(t, key, "state.db")
	keyFile := filepath.Join(t.TempDir(), "backup.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{filepath.Join(t.TempDir(), "new", "data"), t.TempDir()} {
		t.Setenv("PHOENIX_DATA", data)
		for _, args := range [][]string{
			{"backup", "list"},
			{"backup", "status"},
			{"backup", "create"},
			{"backup", "create", "--repo", repo, "--key-file", keyFile},
		} {
			out, errs, code := run(args...)
			if code != 2 || !strings.HasPrefix(errs, "error: no phoenix data dir at "+data+" (PHOENIX_DATA)") || out != "" {
				t.Errorf("phoenix %s on %s: exit %d:\n%s%s", strings.Join(args, " "), data, code, out, errs)
			}
			if backup.CheckNewDir(data) != nil {
				t.Fatalf("phoenix %s made a data dir at %s", strings.Join(args, " "), data)
			}
		}
		if _, errs, code := run("backup", "restore", "latest", "--repo", repo, "--key-file", keyFile, "--to", data); code != 0 {
			t.Errorf("restore into %s: exit %d: %s", data, code, errs)
		}
	}

	_, errs, code := run("backup", "list", "--data", madeDataDir(t))
	if code != 2 || !strings.Contains(errs, "hint: pass --repo DIR and --key-file FILE") {
		t.Errorf("backup list on a data dir with no server: exit %d:\n%s", code, errs)
	}
}

// TestBackupListShowsTheSoundSnapshots: with one snapshot damaged on disk,
// 'phoenix backup list --repo' printed an error and no snapshot, and
// 'restore latest' failed although the newest is sound. The listing shows
// the others, then names the damaged one and its file (exit 1); restore
// latest restores the newest sound one after a warning.
func TestBackupListShowsTheSoundSnapshots(t *testing.T) {
	unsetEnv(t, "PHOENIX_BACKUP_REPO", "PHOENIX_BACKUP_KEY_FILE", BackupKeyEnv, "PHOENIX_SERVER")
	const key = "the key of this backup repository"
	repo := snapshotRepo(t, key, "state.db")
	ctx := context.Background()
	r, err := backup.Open(ctx, repo, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	old, err := r.List(ctx)
	if err != nil || len(old) != 1 {
		t.Fatalf("List = %v, %v", old, err)
	}
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "admin.token"), []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	sound, err := r.Create(ctx, backup.CreateOptions{DataDir: data})
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(repo, "snapshots", "sha256", old[0].ID[:2], old[0].ID)
	if err := os.Chmod(bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("PHXBK1\nnot a snapshot any more"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(BackupKeyEnv, key)

	out, errs, code := run("backup", "list", "--repo", repo)
	if code != 1 || !strings.Contains(out, shortID(sound.ID)) ||
		!strings.HasPrefix(errs, "error: 1 snapshot(s) cannot be read, damaged: "+old[0].ID[:8]+"\n") || !strings.Contains(errs, "delete "+bad+" ") {
		t.Errorf("list: exit %d:\n%s%s", code, out, errs)
	}
	to := filepath.Join(t.TempDir(), "restored")
	t.Setenv(BackupKeyEnv, key) // taken from the environment once read
	out, errs, code = run("backup", "restore", "latest", "--repo", repo, "--to", to)
	if code != 0 || !strings.Contains(out, "restored snapshot "+shortID(sound.ID)) ||
		!strings.Contains(errs, "warning: 1 snapshot(s) cannot be read, damaged: "+old[0].ID[:8]+"; latest is the newest of the others") {
		t.Errorf("restore latest: exit %d:\n%s%s", code, out, errs)
	}
}

// TestBackupStatusWithoutAServer: with no server on the data dir,
// 'phoenix backup status' started one in-process, which has no repository,
// and printed "this server takes no backups (start it with
// --backup-repo)" with exit 0, whatever the real server, stopped or
// elsewhere, takes. It is refused (exit 2), saying no server runs there
// and how else to look, as 'phoenix backup list' is.
func TestBackupStatusWithoutAServer(t *testing.T) {
	unsetEnv(t, "PHOENIX_BACKUP_REPO", "PHOENIX_BACKUP_KEY_FILE", BackupKeyEnv, "PHOENIX_SERVER", "PHOENIX_TOKEN")
	data := madeDataDir(t)
	for _, args := range [][]string{{"backup", "status"}, {"backup", "status", "-o", "json"}} {
		out, errs, code := run(append(args, "--data", data)...)
		if code != 2 || out != "" || !strings.HasPrefix(errs, "error: no server runs on "+data+" to ask how its backups are doing\n") ||
			!strings.Contains(errs, "--server URL") || strings.Contains(errs, "takes no backups") {
			t.Errorf("phoenix %s: exit %d:\n%s%s", strings.Join(args, " "), code, out, errs)
		}
	}
	_, errs, code := run("backup", "status", "--server", "http://127.0.0.1:1", "--token", "phx_x")
	if code == 0 || !strings.Contains(errs, "127.0.0.1:1") {
		t.Errorf("phoenix backup status --server on nothing: exit %d:\n%s", code, errs)
	}
}

// TestBackupStatusExitCode: 'phoenix backup status' exited 0 for a server
// that takes no backups and for FAILING and OVERDUE backups alike, so a
// health check could not tell them from healthy ones. They exit 1, with
// the reason on stderr after the status (-o json: the whole object, as the
// API answers it); healthy, running or not yet due exits 0.
func TestBackupStatusExitCode(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	at := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	ok := app.BackupStatus{Repo: "/mnt/backups/phoenix", Schedule: "daily", KeepWithin: "90d", LastSuccess: &at}
	failing, overdue, running := ok, ok, ok
	failing.LastFailure, failing.LastError = &at, "open /mnt/backups/phoenix: no such file or directory"
	overdue.Overdue = true
	running.Running, running.LastSuccess = true, nil
	none := app.BackupStatus{Schedule: "daily", KeepWithin: "90d"}
	var st app.BackupStatus
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/backups/status" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
	}))
	defer srv.Close()
	for _, c := range []struct {
		name   string
		st     app.BackupStatus
		code   int
		stdout string // in the table
		stderr string
	}{
		{"ok", ok, 0, " ok", ""},
		{"running, none yet", running, 0, "running", ""},
		{"no repository", none, 1, "", "error: this server takes no backups\nhint: start it with --backup-repo"},
		{"failing", failing, 1, "last attempt failed: open /mnt", "error: backups are failing: the last attempt, at "},
		{"overdue", overdue, 1, "OVERDUE", "error: backups are overdue: two scheduled runs passed with no successful backup since "},
	} {
		st = c.st
		out, errs, code := run("backup", "status", "--server", srv.URL, "--token", "t")
		if code != c.code || !strings.Contains(out, c.stdout) || !strings.HasPrefix(errs, c.stderr) || (c.stderr == "") != (errs == "") {
			t.Errorf("%s: exit %d, want %d:\n%s%s", c.name, code, c.code, out, errs)
		}
		out, errs, jcode := run("backup", "status", "-o", "json", "--server", srv.URL, "--token", "t")
		var got app.BackupStatus
		if err := json.Unmarshal([]byte(out), &got); err != nil || jcode != c.code || !strings.HasPrefix(errs, c.stderr) ||
			got.Repo != c.st.Repo || got.LastError != c.st.LastError || got.Overdue != c.st.Overdue || got.Schedule != "daily" {
			t.Errorf("%s -o json: exit %d, want %d (%v):\n%s%s", c.name, jcode, c.code, err, out, errs)
		}
	}
}
