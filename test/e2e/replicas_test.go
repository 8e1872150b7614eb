package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestReplicas runs two 'phoenix server --replica' processes on one
// PostgreSQL database (testkit's, on 127.0.0.1) and one S3 API
// (testkit.S3): --replica without a blob store is refused naming the fix;
// the second replica needs no file from the first (the audit key is in the
// shared vault) and signs with the same key; a deploy
// through one replica's CLI is served by the other's edge, a rollback
// through the other switches the first back; when the leader is killed
// (SIGKILL) the other leads. No secret shows in either log.
func TestReplicas(t *testing.T) {
	const dbPassword, s3Secret, masterKey = "e2e-db-password-never-shown", "e2e-s3-secret-never-shown", "e2e master key of the vault"
	work := t.TempDir()
	dsn := strings.Replace(testkit.Postgres(t).NewDatabase(t), "postgres@", "postgres:"+dbPassword+"@", 1)
	endpoint := testkit.S3(t, "artifacts")
	env := []string{"PHOENIX_DATABASE_URL=" + dsn, "PHOENIX_MASTER_KEY=" + masterKey,
		"AWS_ACCESS_KEY_ID=AKIDE2E", "AWS_SECRET_ACCESS_KEY=" + s3Secret}
	blobs := []string{"--blob-store", "s3://artifacts/phoenix", "--blob-store-endpoint", endpoint}

	r := run(t, work, env, "server", "--replica", "--data", filepath.Join(work, "refused"), "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0")
	if r.code != 2 || !strings.Contains(r.stderr, "--blob-store") {
		t.Fatalf("--replica without a blob store: %+v", r)
	}
	dataA, dataB := filepath.Join(work, "a"), filepath.Join(work, "b")
	a := startServerWith(t, dataA, env, append([]string{"--replica"}, blobs...)...)
	b := startServerWith(t, dataB, env, append([]string{"--replica"}, blobs...)...)
	sameAuditKey(t, dataA, b)

	host := "production.shop.localhost"
	deployShop(t, work, []string{"PHOENIX_DATA=" + dataA}, "release-one")
	waitEdge(t, b, host, "release-one")
	proj := filepath.Join(work, "proj")
	writeSite(t, filepath.Join(proj, "v2"), "release-two")
	if r := run(t, proj, []string{"PHOENIX_DATA=" + dataA}, "deploy", "v2", "--env", "production"); r.code != 0 {
		t.Fatalf("deploy v2: %+v", r)
	}
	waitEdge(t, b, host, "release-two")
	if r := run(t, proj, []string{"PHOENIX_DATA=" + dataB}, "rollback", "--env", "production"); r.code != 0 {
		t.Fatalf("rollback through B: %+v", r)
	}
	waitEdge(t, a, host, "release-one")

	leader, other := a, b
	if !strings.Contains(a.logs.String(), "this server leads") {
		leader, other = b, a
	}
	if !strings.Contains(leader.logs.String(), "this server leads") || strings.Contains(other.logs.String(), "this server leads") {
		t.Fatalf("not one leader:\nA:\n%s\nB:\n%s", a.logs.String(), b.logs.String())
	}
	leader.cmd.Process.Signal(syscall.SIGKILL)
	leader.cmd.Wait()
	waitLog(t, other, "this server leads")
	waitEdge(t, other, host, "release-one")
	for _, s := range []*server{a, b} {
		for _, secret := range []string{dbPassword, s3Secret, masterKey} {
			if strings.Contains(s.logs.String(), secret) {
				t.Errorf("a replica's log shows %q", secret)
			}
		}
	}
}

// sameAuditKey: no replica holds the audit private key in a file; both
// keep the same public half, and 'phoenix audit verify' through the
// second passes.
func sameAuditKey(t *testing.T, dataA string, b *server) {
	t.Helper()
	var pubs []string
	for _, d := range []string{dataA, b.data} {
		if _, err := os.Stat(filepath.Join(d, "keys", "audit.key")); !os.IsNotExist(err) {
			t.Fatalf("%s holds the audit key file: %v", d, err)
		}
		b, err := os.ReadFile(filepath.Join(d, "keys", "audit.pub"))
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, string(b))
	}
	if pubs[0] != pubs[1] {
		t.Fatalf("the replicas' audit keys differ: %q %q", pubs[0], pubs[1])
	}
	env := []string{"PHOENIX_SERVER=http://" + b.api, "PHOENIX_TOKEN=" + b.token}
	if r := run(t, b.data, env, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, strings.TrimSpace(pubs[0])) {
		t.Fatalf("audit verify through B: %+v", r)
	}
}

// waitEdge polls s's edge until host's page names release.
func waitEdge(t *testing.T, s *server, host, release string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, body := s.get(t, host, "/"); code == 200 && strings.Contains(body, release) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edge at %s never served %s", s.edge, release)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not timing it
	}
}

// waitLog polls s's log until it holds line.
func waitLog(t *testing.T, s *server, line string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.logs.String(), line) {
		if time.Now().After(deadline) {
			t.Fatalf("never logged %q:\n%s", line, s.logs.String())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not timing it
	}
}
