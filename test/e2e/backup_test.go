package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestBackupCreateVerifyRestore runs the backup commands as an operator
// would: init makes the repository and a key file, the server takes a
// backup on request, verify reads it back, restore makes a new data dir
// that a new server serves the same release from, and a damaged object
// or a wrong key are reported, never glossed over.
func TestBackupCreateVerifyRestore(t *testing.T) {
	work := t.TempDir()
	data, repo := filepath.Join(work, "data"), filepath.Join(work, "repo")
	keyFile := filepath.Join(work, "backup.key")
	r := run(t, work, nil, "backup", "init", "--repo", repo, "--key-file", keyFile)
	if r.code != 0 || !strings.Contains(r.stderr, "keep a copy") {
		t.Fatalf("init: %+v", r)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, fi)
	}
	key, _ := os.ReadFile(keyFile)
	s := startServerWith(t, data, nil, "--backup-repo", repo, "--backup-key-file", keyFile, "--backup-schedule", "off")
	proj := filepath.Join(work, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "phoenix.yaml"), []byte("version: 1\nproject:\n  name: shop\nenvironments:\n  production: {}\n"), 0o644)
	writeSite(t, filepath.Join(proj, "v1"), "release-one")
	env := []string{"PHOENIX_DATA=" + data}
	if r := run(t, proj, env, "deploy", "v1", "--env", "production"); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}

	r = run(t, work, env, "backup", "create", "-o", "json")
	var res struct {
		Snapshot struct {
			ID    string `json:"id"`
			Files int    `json:"files"`
		} `json:"snapshot"`
		RestoreTest string `json:"restore_test"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.RestoreTest != "passed" {
		t.Fatalf("create: %+v", r)
	}
	if r := run(t, work, env, "backup", "list"); r.code != 0 || !strings.Contains(r.stdout, res.Snapshot.ID[:12]) {
		t.Fatalf("list: %+v", r)
	}
	if r := run(t, work, env, "backup", "status"); r.code != 0 || !strings.Contains(r.stdout, repo) || !strings.Contains(r.stdout, " ok") {
		t.Fatalf("status: %+v", r)
	}
	repoArgs := []string{"--repo", repo, "--key-file", keyFile}
	if r := run(t, work, nil, append([]string{"backup", "verify", "latest"}, repoArgs...)...); r.code != 0 {
		t.Fatalf("verify: %+v", r)
	}
	r = run(t, work, nil, append([]string{"backup", "verify", "latest", "-o", "json"}, repoArgs...)...)
	var vr struct {
		Snapshot string    `json:"snapshot"`
		Files    int       `json:"files"`
		Problems *[]string `json:"problems"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &vr); r.code != 0 || err != nil || vr.Snapshot != res.Snapshot.ID ||
		vr.Files < 1 || vr.Problems == nil || len(*vr.Problems) != 0 {
		t.Fatalf("verify -o json (%v): %+v", err, r)
	}

	restored := filepath.Join(work, "restored")
	r = run(t, work, nil, append([]string{"backup", "restore", res.Snapshot.ID[:8], "--to", restored}, repoArgs...)...)
	if r.code != 0 {
		t.Fatalf("restore: %+v", r)
	}
	if r := run(t, work, nil, append([]string{"backup", "restore", "latest", "--to", restored}, repoArgs...)...); r.code != 1 ||
		!strings.Contains(r.stderr, "empty") {
		t.Fatalf("restore over a data dir: %+v", r)
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s2 := startServer(t, restored)
	if code, body := s2.get(t, "production.shop.localhost", "/"); code != 200 || !strings.Contains(body, "release-one") {
		t.Fatalf("restored server: %d %q", code, body)
	}

	// With no server on the data dir, create starts one in-process with
	// the repository and key it is given (here through the environment).
	s2.cmd.Process.Kill()
	s2.cmd.Wait()
	r = run(t, work, []string{"PHOENIX_DATA=" + restored, "PHOENIX_BACKUP_REPO=" + repo, "PHOENIX_BACKUP_KEY_FILE=" + keyFile},
		"backup", "create")
	if r.code != 0 || !strings.Contains(r.stdout, "restore test passed") {
		t.Fatalf("create in-process: %+v", r)
	}
	if r := run(t, work, []string{"PHOENIX_BACKUP_KEY=not the key"}, "backup", "list", "--repo", repo); r.code != 2 ||
		!strings.Contains(r.stderr, "does not open") {
		t.Fatalf("wrong key: %+v", r)
	}
	damageObjects(t, filepath.Join(repo, "objects"))
	// Two servers have backed up here now (the restored data dir is a
	// server of its own): latest must say whose, --any takes the newest.
	r = run(t, work, nil, append([]string{"backup", "verify", "latest", "--any"}, repoArgs...)...)
	if r.code != 1 || !strings.Contains(r.stdout, "problem") {
		t.Fatalf("verify of a damaged repository: %+v", r)
	}
	if strings.Contains(s.logs.String(), strings.TrimSpace(string(key))) {
		t.Fatal("the backup key is in the server's log")
	}
}

// TestBackupStatusOfAServerWithoutBackups: a health check running
// 'phoenix backup status' against a server started without --backup-repo
// got exit 0, as for healthy backups. It exits 1, saying why on stderr,
// and -o json still prints the whole status.
func TestBackupStatusOfAServerWithoutBackups(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	startServer(t, data)
	env := []string{"PHOENIX_DATA=" + data}
	if r := run(t, work, env, "backup", "status"); r.code != 1 || r.stdout != "" ||
		!strings.HasPrefix(r.stderr, "error: this server takes no backups\nhint: start it with --backup-repo") {
		t.Fatalf("status: %+v", r)
	}
	r := run(t, work, env, "backup", "status", "-o", "json")
	var st map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 1 || st["repo"] != "" || st["schedule"] == nil ||
		!strings.Contains(r.stderr, "takes no backups") {
		t.Fatalf("status -o json (%v): %+v", err, r)
	}
}

// damageObjects flips one byte in the middle of every stored object, so
// whichever snapshot is checked, its files no longer read back.
func damageObjects(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		os.Chmod(p, 0o600)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b[len(b)/2] ^= 0x40
		n++
		return os.WriteFile(p, b, 0o600)
	})
	if err != nil || n == 0 {
		t.Fatalf("damaging %s: %d objects, %v", dir, n, err)
	}
}

// TestBackupMirrorPullRestore is the disaster drill with the machine gone:
// the server copies each backup to S3-compatible storage (testkit.S3: the
// S3 API on 127.0.0.1 in this test process, the only stand-in), and
// on a new machine 'backup pull' and 'backup restore' bring back a data dir
// that serves the same release.
func TestBackupMirrorPullRestore(t *testing.T) {
	work := t.TempDir()
	endpoint := testkit.S3(t, "offsite")
	const secret = "aws-secret-never-in-logs"
	creds := []string{"AWS_ACCESS_KEY_ID=AKIDE2E", "AWS_SECRET_ACCESS_KEY=" + secret}
	data, repo, keyFile := filepath.Join(work, "data"), filepath.Join(work, "repo"), filepath.Join(work, "backup.key")
	if r := run(t, work, nil, "backup", "init", "--repo", repo, "--key-file", keyFile); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	s := startServerWith(t, data, creds, "--backup-repo", repo, "--backup-key-file", keyFile, "--backup-schedule", "off",
		"--backup-mirror", "s3://offsite/phoenix", "--backup-mirror-endpoint", endpoint)
	env := []string{"PHOENIX_DATA=" + data}
	deployShop(t, work, env, "release-mirrored")
	r := run(t, work, env, "backup", "create", "-o", "json")
	var res struct {
		Mirror struct {
			Uploaded int `json:"uploaded"`
		} `json:"mirror"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Mirror.Uploaded == 0 {
		t.Fatalf("create with a mirror: %+v", r)
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()

	// A new machine: only the mirror and the key are left.
	pulled, restored := filepath.Join(work, "pulled"), filepath.Join(work, "restored")
	if r := run(t, work, creds, "backup", "pull", "--from", "s3://offsite/phoenix", "--endpoint", endpoint, "--to", pulled); r.code != 0 {
		t.Fatalf("pull: %+v", r)
	}
	if r := run(t, work, nil, "backup", "restore", "latest", "--repo", pulled, "--key-file", keyFile, "--to", restored); r.code != 0 {
		t.Fatalf("restore from the pulled mirror: %+v", r)
	}
	s2 := startServer(t, restored)
	if code, body := s2.get(t, "production.shop.localhost", "/"); code != 200 || !strings.Contains(body, "release-mirrored") {
		t.Fatalf("server on the restored dir: %d %q", code, body)
	}
	if strings.Contains(s.logs.String(), secret) {
		t.Fatal("the S3 secret key is in the server's log")
	}
}

// TestBackupCreateRepoFlagsWithARunningServer: --repo and --key-file name
// the repository of a server started just for the backup; with a server
// already on the data dir the command says they do not apply, and the
// server's refusal says how to give it a repository.
func TestBackupCreateRepoFlagsWithARunningServer(t *testing.T) {
	work := t.TempDir()
	data, repo, keyFile := filepath.Join(work, "data"), filepath.Join(work, "repo"), filepath.Join(work, "backup.key")
	if r := run(t, work, nil, "backup", "init", "--repo", repo, "--key-file", keyFile); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	startServer(t, data)
	r := run(t, work, []string{"PHOENIX_DATA=" + data}, "backup", "create", "--repo", repo, "--key-file", keyFile)
	if r.code == 0 || !strings.Contains(r.stderr, "--repo and --key-file apply only when no server runs") ||
		!strings.Contains(r.stderr, "no backup repository") || !strings.Contains(r.stderr, "--backup-repo") {
		t.Fatalf("create with --repo beside a running server: %+v", r)
	}
}

// TestBackupListThroughTheServerShowsTheSoundSnapshots: a damaged snapshot
// (a bit flipped on the backup disk) hides no other in the server's
// listing either: 'phoenix backup list' through it shows the others and
// names the damaged one (exit 1), as with --repo.
func TestBackupListThroughTheServerShowsTheSoundSnapshots(t *testing.T) {
	work := t.TempDir()
	data, repo := filepath.Join(work, "data"), filepath.Join(work, "repo")
	keyFile := filepath.Join(work, "backup.key")
	if r := run(t, work, nil, "backup", "init", "--repo", repo, "--key-file", keyFile); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	startServerWith(t, data, nil, "--backup-repo", repo, "--backup-key-file", keyFile, "--backup-schedule", "off")
	env := []string{"PHOENIX_DATA=" + data}
	var ids []string
	for range 2 {
		r := run(t, work, env, "backup", "create", "-o", "json")
		var res struct {
			Snapshot struct {
				ID string `json:"id"`
			} `json:"snapshot"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil {
			t.Fatalf("create: %+v", r)
		}
		ids = append(ids, res.Snapshot.ID)
	}
	bad := filepath.Join(repo, "snapshots", "sha256", ids[0][:2], ids[0])
	os.Chmod(bad, 0o600)
	if err := os.WriteFile(bad, []byte("PHXBK1\nnot a snapshot any more"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, work, env, "backup", "list")
	if r.code != 1 || !strings.Contains(r.stdout, ids[1][:12]) || strings.Contains(r.stdout, ids[0][:12]) ||
		!strings.Contains(r.stderr, "1 snapshot(s) cannot be read, damaged: "+ids[0][:8]) {
		t.Fatalf("list through the server with a damaged snapshot: %+v", r)
	}
	r = run(t, work, env, "backup", "list", "-o", "json")
	var list []struct {
		ID string `json:"id"`
	}
	if r.code != 1 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 1 || list[0].ID != ids[1] {
		t.Fatalf("list -o json: %+v", r)
	}
}
