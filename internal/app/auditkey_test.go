package app

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestAuditKeyMovesIntoTheVault: a data dir that signed audit checkpoints
// with a key file before it had a vault moves the key into the vault at
// the first unsealed start: the file goes, keys/audit.pub stays, and no
// byte of the private key is left in the data dir or the database. A
// sealed restart keeps recording with checkpoints deferred (verify says
// so); the unseal signs a checkpoint that covers them.
func TestAuditKeyMovesIntoTheVault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	a, err := startVault(t, dir, "") // no vault yet: a key file
	if err != nil {
		t.Fatal(err)
	}
	priv := auditKeyFile(dir)
	raw, err := os.ReadFile(priv)
	if fi, serr := os.Stat(priv); err != nil || serr != nil || fi.Mode().Perm() != 0o600 || !a.Audit.Signing() {
		t.Fatalf("key file before the vault: %v %v", err, serr)
	}
	fileKey, err := audit.ParseKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	a.Stop(ctx)

	const master = "a master key for the audit key test"
	a, err = startVault(t, dir, master)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(priv); !os.IsNotExist(err) {
		t.Fatalf("the private key file is still on disk: %v", err)
	}
	s, err := a.Vault.AuditKey(ctx, auditSubject)
	if err != nil {
		t.Fatal(err)
	}
	if inVault, err := audit.ParseKey(s.Bytes()); err != nil || inVault.VerifierKey != fileKey.VerifierKey {
		t.Fatalf("vault key %q, want the file's key %q: %v", inVault.VerifierKey, fileKey.VerifierKey, err)
	}
	assertPub(t, dir, fileKey.VerifierKey)
	assertVerified(t, a, false)
	a.Stop(ctx)
	assertNoPrivateKey(t, dir, raw)

	a, err = startVault(t, dir, "") // sealed: records chain, checkpoints wait
	if err != nil {
		t.Fatal(err)
	}
	if a.Audit.Signing() || a.AuditKey.VerifierKey != fileKey.VerifierKey {
		t.Fatalf("sealed start: signing %v, verifier %q (what the API reports), want %q", a.Audit.Signing(), a.AuditKey.VerifierKey, fileKey.VerifierKey)
	}
	for range 3 {
		if _, err := a.Audit.Append(ctx, audit.Event{Action: "test.sealed", Target: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	rep := assertVerified(t, a, true)
	if rep.Unsigned < 3 || rep.Signed == 0 {
		t.Fatalf("sealed verify should report the unsigned tail: %+v", rep)
	}
	if err := a.Vault.Unseal(ctx, vault.SecretString(master)); err != nil {
		t.Fatal(err)
	}
	if !a.Audit.Signing() {
		t.Fatal("the unseal did not give the audit log its key")
	}
	if rep := assertVerified(t, a, false); rep.Unsigned != 0 {
		t.Fatalf("after unseal a checkpoint should cover everything: %+v", rep)
	}
	if _, err := os.Stat(priv); !os.IsNotExist(err) {
		t.Fatal("a sealed start or the unseal made a key file")
	}
	a.Stop(ctx)
	assertNoPrivateKey(t, dir, raw)
}

// TestAuditKeyMadeInTheVault: a new server with a vault never writes the
// audit private key to disk.
func TestAuditKeyMadeInTheVault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	a, err := startVault(t, dir, "a master key for a new data dir")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(auditKeyFile(dir)); !os.IsNotExist(err) {
		t.Fatalf("a key file on a new data dir with a vault: %v", err)
	}
	s, err := a.Vault.AuditKey(ctx, auditSubject)
	if err != nil {
		t.Fatal(err)
	}
	key, err := audit.ParseKey(s.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	assertPub(t, dir, key.VerifierKey)
	assertVerified(t, a, false)
	raw := bytes.Clone(s.Bytes())
	a.Stop(ctx)
	assertNoPrivateKey(t, dir, raw)
}

// TestAuditKeyFileBesideTheVaultKey: a key file left beside the vault's
// key (a replica's old copy) is removed when it is the same key, and
// refuses the start, naming it, when it is another.
func TestAuditKeyFileBesideTheVaultKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	const master = "a master key for the stale file test"
	a, err := startVault(t, dir, master)
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.Vault.AuditKey(ctx, auditSubject)
	if err != nil {
		t.Fatal(err)
	}
	same := bytes.Clone(s.Bytes())
	a.Stop(ctx)
	if err := os.WriteFile(auditKeyFile(dir), same, 0o600); err != nil {
		t.Fatal(err)
	}
	if a, err = startVault(t, dir, master); err != nil {
		t.Fatal(err)
	}
	a.Stop(ctx)
	if _, err := os.Stat(auditKeyFile(dir)); !os.IsNotExist(err) {
		t.Fatalf("the copy of the vault's key is still on disk: %v", err)
	}
	_, other, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(auditKeyFile(dir), other, 0o600)
	if _, err := startVault(t, dir, master); err == nil || !strings.Contains(err.Error(), "is not the audit key in the vault") ||
		!strings.Contains(err.Error(), auditKeyFile(dir)) {
		t.Fatalf("another key file beside the vault's: %v", err)
	}
}

func assertPub(t *testing.T, dir, want string) {
	t.Helper()
	b, err := os.ReadFile(auditKeyPub(dir))
	if err != nil || strings.TrimSpace(string(b)) != want {
		t.Fatalf("keys/audit.pub = %q, %v; want %q", b, err, want)
	}
}

// assertVerified checks the log verifies, deferred as given, and returns
// the report.
func assertVerified(t *testing.T, a *App, deferred bool) *audit.Report {
	t.Helper()
	rep, err := a.Audit.Verify(context.Background())
	if err != nil || !rep.OK || rep.Deferred != deferred || rep.Records == 0 || rep.Signed+rep.Unsigned != rep.Head.Seq {
		t.Fatalf("verify = %+v, %v (want deferred %v)", rep, err, deferred)
	}
	return rep
}

// assertNoPrivateKey scans every file under dir (the database and its
// WAL included) for the private key: its stored form, the signer line
// and the key material in it.
func assertNoPrivateKey(t *testing.T, dir string, raw []byte) {
	t.Helper()
	signer := strings.Fields(string(raw))[0]
	// PRIVATE+KEY+<name>+<hash>+<base64 key>: the base64 may hold '+'
	// itself, so the key is everything after the fourth '+'.
	parts := strings.SplitN(signer, "+", 5)
	if len(parts) != 5 || len(parts[4]) < 32 {
		t.Fatalf("unexpected signer key shape %.20q…", signer)
	}
	material := parts[4]
	needles := [][]byte{raw, []byte(signer), []byte(material), []byte("PRIVATE+KEY")}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s holds the audit private key (%.12q…)", path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// assertSharedAuditKey: replicas sign with one key, read from the shared
// vault; neither data dir holds the private key file, both keep the
// public half, and the database records it.
func assertSharedAuditKey(t *testing.T, rs *replicaSet, apps ...*App) {
	t.Helper()
	var recorded string
	if err := apps[0].DB.QueryRowContext(context.Background(), `SELECT value FROM replica_settings WHERE name = 'audit.verifier'`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	for i, a := range apps {
		if !a.Audit.Signing() || a.AuditKey.VerifierKey != recorded {
			t.Fatalf("replica %d: signing %v with %q, want %q", i, a.Audit.Signing(), a.AuditKey.VerifierKey, recorded)
		}
		if _, err := os.Stat(auditKeyFile(rs.dirs[i])); !os.IsNotExist(err) {
			t.Fatalf("replica %d has an audit key file: %v", i, err)
		}
		assertPub(t, rs.dirs[i], recorded)
	}
}

// TestReplicaRefusesAnotherAuditKey: a replica whose vault holds another
// audit key than the one recorded for the replicas (PHOENIX_AUDIT_KEY
// replaced by hand) is refused, naming the secret and the way back.
func TestReplicaRefusesAnotherAuditKey(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	a := rs.start(t)
	_, other, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Vault.SetAuditKey(context.Background(), auditSubject, vault.NewSecret(other)); err != nil {
		t.Fatal(err)
	}
	_, err = startErr(rs.options(t, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "PHOENIX_AUDIT_KEY") || !strings.Contains(err.Error(), "not the key the replicas") {
		t.Fatalf("a replica with another audit key: %v", err)
	}
	if strings.Contains(err.Error(), strings.Fields(string(other))[0]) {
		t.Fatal("the refusal shows the private key")
	}
}

// appendN writes n audit records.
func appendN(t *testing.T, a *App, n int, action string) {
	t.Helper()
	for range n {
		if _, err := a.Audit.Append(context.Background(), audit.Event{Action: action, Target: "x"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditSealedPastAPeriodicCheckpoint: more than 256 records written
// while sealed (a periodic checkpoint deferred) are covered after the
// unseal, periodic checkpoint included, and the strict verification of a
// signing log passes.
func TestAuditSealedPastAPeriodicCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	const master = "a master key for the long sealed test"
	a, err := startVault(t, dir, master)
	if err != nil {
		t.Fatal(err)
	}
	a.Stop(ctx)
	if a, err = startVault(t, dir, ""); err != nil {
		t.Fatal(err)
	}
	appendN(t, a, 300, "test.sealed")
	if rep := assertVerified(t, a, true); rep.Unsigned < 300 {
		t.Fatalf("sealed: %+v", rep)
	}
	if err := a.Vault.Unseal(ctx, vault.SecretString(master)); err != nil {
		t.Fatal(err)
	}
	if rep := assertVerified(t, a, false); rep.Unsigned != 0 {
		t.Fatalf("after unseal: %+v", rep)
	}
}

// TestAuditAnchorRefusesToReSignDeletedCheckpoints: checkpoints deleted
// from the database behind the server's back are not signed again at the
// next start (the anchor in keys/ names a newer one), so verify still
// reports the missing periodic checkpoint.
func TestAuditAnchorRefusesToReSignDeletedCheckpoints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	const master = "a master key for the anchor test"
	a, err := startVault(t, dir, master)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, a, 300, "test.signed")
	a.Stop(ctx) // the last checkpoint, and the anchor, cover all 300
	if _, err := os.Stat(auditAnchor(dir)); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM audit_checkpoints WHERE seq >= 256`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if a, err = startVault(t, dir, master); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Audit.Verify(ctx)
	if err != nil || rep.OK || rep.FirstBad != 256 || !strings.Contains(rep.Problem, "checkpoint at record 256 is missing") {
		t.Fatalf("verify after deleted checkpoints = %+v, %v", rep, err)
	}
}

// TestAuditVerifyFindsATailDeletedWithItsCheckpoints: records deleted from
// the end together with the checkpoints that covered them leave a log that
// is consistent in itself; verify compares it with the newest checkpoint
// kept outside the database (keys/audit.checkpoint) and names the record
// after the log's end, sealed (as an in-process 'phoenix audit verify'
// runs) and unsealed.
func TestAuditVerifyFindsATailDeletedWithItsCheckpoints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	const master = "a master key for the truncation test"
	a, err := startVault(t, dir, master)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, a, 300, "test.signed")
	a.Stop(ctx) // the last checkpoint, and the anchor, cover every record
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM audit_log WHERE seq > 200`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM audit_checkpoints WHERE seq > 200`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, key := range []string{"", master} {
		if a, err = startVault(t, dir, key); err != nil {
			t.Fatal(err)
		}
		rep, err := a.Audit.Verify(ctx)
		// Sealed, the log ends at 200; unsealed, the start appends a few
		// records (and signs a checkpoint over them) before verify runs.
		if err != nil || rep.OK || rep.FirstBad < 201 || rep.FirstBad != rep.Head.Seq+1 ||
			!strings.Contains(rep.Problem, "keys/audit.checkpoint") {
			t.Fatalf("verify (unsealed: %v) after a deleted tail = %+v, %v", key != "", rep, err)
		}
		a.Stop(ctx)
	}
	// New records past the anchor's sequence do not hide it: the record
	// there is not the one the anchor signed.
	if a, err = startVault(t, dir, master); err != nil {
		t.Fatal(err)
	}
	appendN(t, a, 150, "test.regrown")
	rep, err := a.Audit.Verify(ctx)
	if err != nil || rep.OK || !strings.Contains(rep.Problem, "differ from the checkpoint kept outside the database") {
		t.Fatalf("verify after the log grew past the anchor again = %+v, %v", rep, err)
	}
	// Nor do checkpoints signed over the new records replace the anchor.
	a.Stop(ctx)
	if a, err = startVault(t, dir, master); err != nil {
		t.Fatal(err)
	}
	if rep, err := a.Audit.Verify(ctx); err != nil || rep.OK {
		t.Fatalf("verify after a restart = %+v, %v", rep, err)
	}
}

// TestAuditKeyFileLostKeepsTheVerifier: a data dir without a vault whose
// keys/audit.key is gone (deleted by hand, or restored without it) while
// keys/audit.pub names the key that signed its checkpoints does not get
// a new key: one could not sign this log, and its public half written over
// keys/audit.pub would lose the verifier of every checkpoint so far. The
// server runs, records keep chaining unsigned, and verify still checks
// the old checkpoints with the old key.
func TestAuditKeyFileLostKeepsTheVerifier(t *testing.T) {
	t.Parallel()
	dir, old := lostAuditKeyFile(t)
	ctx := context.Background()
	var a *App
	var err error
	for range 2 { // the second start must not find a key the first made
		if a, err = startVault(t, dir, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(auditKeyFile(dir)); !os.IsNotExist(err) {
			t.Fatalf("a new keys/audit.key was made: %v", err)
		}
		assertPub(t, dir, old)
		if a.Audit.Signing() || a.AuditKey.VerifierKey != old {
			t.Fatalf("signing %v with verifier %q, want not signing, verifier %q", a.Audit.Signing(), a.AuditKey.VerifierKey, old)
		}
		appendN(t, a, 300, "test.after") // past a periodic checkpoint
		rep, err := a.Audit.Verify(ctx)
		if err != nil || !rep.OK || rep.Signed == 0 || rep.Unsigned < 300 {
			t.Fatalf("verify = %+v, %v", rep, err)
		}
		a.Stop(ctx)
	}
}

// TestAuditKeyMadeInTheVaultKeepsTheOldVerifier: a data dir whose
// keys/audit.key is gone gets a vault: the vault makes a key, which cannot
// sign the log the old key signed; keys/audit.pub keeps the old key (the
// verifier of every checkpoint so far) and the log records unsigned.
func TestAuditKeyMadeInTheVaultKeepsTheOldVerifier(t *testing.T) {
	t.Parallel()
	dir, old := lostAuditKeyFile(t)
	ctx := context.Background()
	a, err := startVault(t, dir, "a master key for the lost key test")
	if err != nil {
		t.Fatal(err)
	}
	assertPub(t, dir, old)
	if a.Audit.Signing() || a.AuditKey.VerifierKey != old {
		t.Fatalf("signing %v with verifier %q (what the API reports), want not signing, verifier %q", a.Audit.Signing(), a.AuditKey.VerifierKey, old)
	}
	appendN(t, a, 300, "test.after")
	if rep, err := a.Audit.Verify(ctx); err != nil || !rep.OK || rep.Signed == 0 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
}

// lostAuditKeyFile is a data dir without a vault whose log the key file
// signed, with keys/audit.key removed, and that key's verifier.
func lostAuditKeyFile(t *testing.T) (dir, verifier string) {
	t.Helper()
	dir = t.TempDir()
	a, err := startVault(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, a, 5, "test.before")
	verifier = a.AuditKey.VerifierKey
	a.Stop(context.Background())
	if err := os.Remove(auditKeyFile(dir)); err != nil {
		t.Fatal(err)
	}
	return dir, verifier
}
