package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

const newMaster = "a brand new master key, never leaked"

// plaintexts decrypts every version in the database (disabled, deleted and
// the server's own keys included) with v's KEK: "NAME@VERSION" → value.
// A version v cannot open fails the test.
func plaintexts(t *testing.T, e *env, v *Vault) map[string]string {
	t.Helper()
	kek, id, err := v.unsealedKEK()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.Query(`SELECT name, version, key_nonce, wrapped_key, nonce, ciphertext FROM vault_versions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name string
		var version int
		var sv sealedVersion
		if err := rows.Scan(&name, &version, &sv.keyNonce, &sv.wrappedKey, &sv.nonce, &sv.ciphertext); err != nil {
			t.Fatal(err)
		}
		pt, err := decryptVersion(kek, id, name, version, sv)
		if err != nil {
			t.Fatalf("%s version %d does not open with the vault's key: %v", name, version, err)
		}
		out[fmt.Sprintf("%s@%d", name, version)] = string(pt)
	}
	return out
}

// fill gives the vault secrets of every sort: several versions, a
// disabled version, a deleted secret, a server key.
func fill(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	e.set(t, "API_KEY", "api-1")
	e.set(t, "API_KEY", "api-2")
	e.set(t, "API_KEY", "api-3")
	e.set(t, "DB_PASSWORD", "db-1")
	e.set(t, "OLD_TOKEN", "old-1")
	if err := e.v.SetEnabled(ctx, admin, "API_KEY", 2, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Delete(ctx, admin, "OLD_TOKEN"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Set(ctx, server, AuditKeyName, SecretString("audit-key-value"), SetOptions{Kind: KindSigningKey}); err != nil {
		t.Fatal(err)
	}
}

// restart is a server started again on the vault: wrong does not unseal
// it, right does.
func restart(t *testing.T, e *env, wrong, right string) *Vault {
	t.Helper()
	v := e.open(t)
	if err := v.Unseal(context.Background(), SecretString(wrong)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("unseal with the key that should not open the vault: %v, want wrong key", err)
	}
	if err := v.Unseal(context.Background(), SecretString(right)); err != nil {
		t.Fatalf("unseal with the key that should open the vault: %v", err)
	}
	return v
}

func TestRekeyKeepsEveryVersion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fill(t, e)
	before := plaintexts(t, e, e.v)
	if len(before) != 6 {
		t.Fatalf("versions before = %v", before)
	}
	var oldSalt, oldCiphertexts []byte
	e.db.QueryRow(`SELECT kdf_salt FROM vault_meta`).Scan(&oldSalt)
	e.db.QueryRow(`SELECT ciphertext FROM vault_versions WHERE name = 'API_KEY' AND version = 1`).Scan(&oldCiphertexts)

	if err := e.v.Rekey(ctx, admin, SecretString(testMaster), SecretString(newMaster)); err != nil {
		t.Fatal(err)
	}
	// The server that changed the key goes on with the new one.
	if e.v.Sealed() || e.get(t, "API_KEY", 0) != "api-3" {
		t.Fatal("the vault does not serve after the rekey")
	}
	if after := plaintexts(t, e, e.v); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("values changed:\nbefore %v\nafter  %v", before, after)
	}
	var salt, ciphertext []byte
	e.db.QueryRow(`SELECT kdf_salt FROM vault_meta`).Scan(&salt)
	e.db.QueryRow(`SELECT ciphertext FROM vault_versions WHERE name = 'API_KEY' AND version = 1`).Scan(&ciphertext)
	if bytes.Equal(salt, oldSalt) {
		t.Error("the salt was kept")
	}
	if !bytes.Equal(ciphertext, oldCiphertexts) {
		t.Error("a value was re-encrypted: only the data keys' wrapping should change")
	}

	// A restart: the old key no longer opens the vault, the new one does.
	restarted := restart(t, e, testMaster, newMaster)
	if after := plaintexts(t, e, restarted); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("values after a restart with the new key:\nbefore %v\nafter  %v", before, after)
	}
	if err := restarted.Recover(ctx, admin, "OLD_TOKEN"); err != nil {
		t.Fatal(err)
	}
	if s, _, err := restarted.Get(ctx, admin, "OLD_TOKEN", 0); err != nil || s.Reveal() != "old-1" {
		t.Fatalf("the recovered secret: %v", err)
	}
	if !e.audit.has("vault.rekey", OutcomeOK) {
		t.Fatalf("audit: %+v, want vault.rekey ok", e.audit.all())
	}
	for _, ev := range e.audit.all() {
		if ev.Action == "vault.rekey" && (ev.Actor != "alice" || !strings.Contains(ev.Detail, "6 versions re-wrapped")) {
			t.Errorf("audit record %+v", ev)
		}
	}
}

func TestRekeyWithAWrongOldKeyChangesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fill(t, e)
	before := dumpVault(t, e)
	err := e.v.Rekey(ctx, admin, SecretString("not the master key at all"), SecretString(newMaster))
	if !errors.Is(err, ErrWrongKey) || usererr.KindOf(err) != usererr.Invalid {
		t.Fatalf("err = %v, want wrong key", err)
	}
	if dumpVault(t, e) != before {
		t.Fatal("a rekey with a wrong old key changed the stored vault")
	}
	if !e.audit.has("vault.rekey", OutcomeFailed) {
		t.Fatalf("audit: %+v, want vault.rekey failed", e.audit.all())
	}
	if e.get(t, "API_KEY", 0) != "api-3" {
		t.Fatal("the vault lost its key")
	}
	if err := e.open(t).Unseal(ctx, SecretString(testMaster)); err != nil {
		t.Fatalf("the old key no longer unseals: %v", err)
	}
}

// TestRekeyFailingMidwayChangesNothing: a rekey that fails after it has
// re-wrapped some versions (a damaged one further on), or at its very end
// (the audit record in its transaction), leaves the vault as it was.
func TestRekeyFailingMidwayChangesNothing(t *testing.T) {
	rec := &txRecorder{}
	e := newEnv(t, func(o *Options) { o.Auditor = rec })
	e.audit = &rec.recorder
	ctx := context.Background()
	fill(t, e)

	t.Run("a damaged version", func(t *testing.T) {
		// DB_PASSWORD comes after API_KEY's three versions.
		var b []byte
		e.db.QueryRow(`SELECT wrapped_key FROM vault_versions WHERE name = 'DB_PASSWORD'`).Scan(&b)
		good := bytes.Clone(b)
		b[3] ^= 1
		e.db.Exec(`UPDATE vault_versions SET wrapped_key = $1 WHERE name = 'DB_PASSWORD'`, b)
		defer e.db.Exec(`UPDATE vault_versions SET wrapped_key = $1 WHERE name = 'DB_PASSWORD'`, good)
		before := dumpVault(t, e)
		err := e.v.Rekey(ctx, admin, SecretString(testMaster), SecretString(newMaster))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "secret DB_PASSWORD version 1 is corrupt") ||
			!strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("err = %v", err)
		}
		if dumpVault(t, e) != before {
			t.Fatal("a failed rekey changed the stored vault")
		}
	})
	t.Run("the audit record", func(t *testing.T) {
		before := dumpVault(t, e)
		rec.fail = errors.New("audit table locked")
		err := e.v.Rekey(ctx, admin, SecretString(testMaster), SecretString(newMaster))
		rec.fail = nil
		if err == nil {
			t.Fatal("a rekey whose audit record failed succeeded")
		}
		if dumpVault(t, e) != before {
			t.Fatal("a failed rekey changed the stored vault")
		}
	})
	if e.get(t, "API_KEY", 0) != "api-3" {
		t.Fatal("the vault lost its key after a failed rekey")
	}
	plaintexts(t, e, restart(t, e, newMaster, testMaster))
}

func TestRekeyRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "API_KEY", "api-1")
	before := dumpVault(t, e)
	run := Subject{Actor: "pipeline release#4", Roles: []string{"admin"}, Pipeline: "release", Environment: "production", Production: true}
	tests := []struct {
		name      string
		v         func() *Vault
		subj      Subject
		old, new  string
		kind      usererr.Kind
		is        error
		message   string
		auditedAs string
	}{
		{"a short new key", func() *Vault { return e.v }, admin, testMaster, "short", usererr.Invalid, nil, "at least 12 characters", ""},
		{"the same key", func() *Vault { return e.v }, admin, testMaster, testMaster, usererr.Invalid, nil, "the new master key is the old one", ""},
		{"a pipeline run", func() *Vault { return e.v }, run, testMaster, newMaster, usererr.Forbidden, ErrDenied, "pipeline run", OutcomeDenied},
		{"a sealed vault", func() *Vault { return e.open(t) }, admin, testMaster, newMaster, usererr.Unavailable, ErrSealed, "vault is sealed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v().Rekey(ctx, tt.subj, SecretString(tt.old), SecretString(tt.new))
			if usererr.KindOf(err) != tt.kind || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v (%v)", err, usererr.KindOf(err))
			}
			if tt.auditedAs != "" && !e.audit.has("vault.rekey", tt.auditedAs) {
				t.Errorf("audit: %+v", e.audit.all())
			}
		})
	}
	if dumpVault(t, e) != before {
		t.Fatal("a refused rekey changed the stored vault")
	}
}

// TestRekeyKeepsKeysSecret: neither key, nor any value, is in the data
// dir (or PostgreSQL's tables), the log, the audit records or an error.
func TestRekeyKeepsKeysSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	value := marker(t, "VALUE")
	e.set(t, "API_KEY", value)
	const wrong = "a wrong old master key 4711"
	secrets := []string{testMaster, newMaster, wrong, value}
	errWrong := e.v.Rekey(ctx, admin, SecretString(wrong), SecretString(newMaster))
	errShort := e.v.Rekey(ctx, admin, SecretString(testMaster), SecretString("tiny"))
	if err := e.v.Rekey(ctx, admin, SecretString(testMaster), SecretString(newMaster)); err != nil {
		t.Fatal(err)
	}
	replica := e.open(t)
	if err := replica.Unseal(ctx, SecretString(newMaster)); err != nil {
		t.Fatal(err)
	}
	if e.logs.Len() == 0 || !strings.Contains(e.logs.String(), "master key changed") {
		t.Fatalf("the log does not show the rekey; the check would prove nothing:\n%s", e.logs)
	}
	assertAbsent(t, "logs", e.logs.Bytes(), secrets)
	b, _ := json.Marshal(e.audit.all())
	assertAbsent(t, "audit events", b, secrets)
	assertAbsent(t, "errors", []byte(fmt.Sprintf("%v %+v %s %v %+v %s", errWrong, errWrong, usererr.HintOf(errWrong),
		errShort, errShort, usererr.HintOf(errShort))), secrets)
	if e.db.Dialect == store.Postgres {
		assertAbsent(t, "the PostgreSQL tables", dbBytes(t, e), secrets)
	}
	scanDir(t, e.dir, secrets)
	e.db.Close()
	scanDir(t, e.dir, secrets)
}

// TestReplicaSealsItselfAfterARekey: servers sharing the database that
// still hold the old key seal themselves, with a clear log line and an
// audit record (vault.seal by system, saying why; it was only logged), at
// their next read, write or check, and write nothing under the old key;
// the new key unseals them.
func TestReplicaSealsItselfAfterARekey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "API_KEY", "api-1")
	replica := func() *Vault {
		r := e.open(t)
		if err := r.Unseal(ctx, SecretString(testMaster)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	reader, writer, ticker := replica(), replica(), replica()
	if sealed, err := ticker.SealIfKeyChanged(ctx); sealed || err != nil {
		t.Fatalf("SealIfKeyChanged before any rekey = %v, %v", sealed, err)
	}
	if err := e.v.Rekey(ctx, admin, SecretString(testMaster), SecretString(newMaster)); err != nil {
		t.Fatal(err)
	}
	before := dumpVault(t, e)

	_, _, err := reader.Get(ctx, admin, "API_KEY", 0)
	if !errors.Is(err, ErrSealed) || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "the master key was changed on another server") {
		t.Fatalf("a read on a replica with the old key: %v", err)
	}
	_, err = writer.Set(ctx, admin, "API_KEY", SecretString("written with the old key"), SetOptions{})
	if !errors.Is(err, ErrSealed) {
		t.Fatalf("a write on a replica with the old key: %v", err)
	}
	if dumpVault(t, e) != before {
		t.Fatal("a replica with the old key wrote to the vault")
	}
	if sealed, err := ticker.SealIfKeyChanged(ctx); !sealed || err != nil {
		t.Fatalf("SealIfKeyChanged after the rekey = %v, %v", sealed, err)
	}
	for name, r := range map[string]*Vault{"reader": reader, "writer": writer, "ticker": ticker} {
		if !r.Sealed() {
			t.Errorf("%s is not sealed", name)
		}
	}
	if n := strings.Count(e.logs.String(), "the master key was changed on another server; unseal with the new key"); n != 3 {
		t.Errorf("the log says so %d times, want 3:\n%s", n, e.logs)
	}
	if strings.Contains(e.logs.String(), "ciphertext failed authentication") {
		t.Error("the replica's read was logged as corrupt data")
	}
	var seals []AuditEvent
	for _, ev := range e.audit.all() {
		if ev.Action == "vault.seal" {
			seals = append(seals, ev)
		}
	}
	if len(seals) != 3 {
		t.Errorf("audited %d seals, want the 3 replicas': %+v", len(seals), seals)
	}
	for _, ev := range seals {
		if ev.Actor != "system" || ev.Target != "vault" || ev.Outcome != OutcomeOK || !strings.Contains(ev.Detail, "the master key was changed on another server") {
			t.Errorf("seal record %+v; want vault.seal by system, ok, saying the key was changed on another server", ev)
		}
	}
	if sealed, err := e.v.SealIfKeyChanged(ctx); sealed || err != nil || e.v.Sealed() {
		t.Fatalf("the server that changed the key: SealIfKeyChanged = %v, %v", sealed, err)
	}
	if err := reader.Unseal(ctx, SecretString(newMaster)); err != nil {
		t.Fatal(err)
	}
	if s, _, err := reader.Get(ctx, admin, "API_KEY", 0); err != nil || s.Reveal() != "api-1" {
		t.Fatalf("the replica unsealed with the new key: %v", err)
	}
}

// TestKeyCheckDuringARekeyHereIsQuiet: the timer's check of the key on
// the server that changes it, begun with the old key and ending after the
// rekey, neither seals the vault nor fails (it failed with "the master key
// was changed while this request ran", logged as an error on every
// rekey that met a tick).
func TestKeyCheckDuringARekeyHereIsQuiet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "API_KEY", "api-1")
	old, _, err := e.v.unsealedKEK()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.v.Rekey(ctx, admin, SecretString(testMaster), SecretString(newMaster)); err != nil {
		t.Fatal(err)
	}
	if sealed, err := e.v.sealIfStale(ctx, old); sealed || err != nil || e.v.Sealed() {
		t.Fatalf("a check begun before the rekey here = %v, %v (sealed %v)", sealed, err, e.v.Sealed())
	}
	if s, _, err := e.v.Get(ctx, admin, "API_KEY", 0); err != nil || s.Reveal() != "api-1" {
		t.Fatalf("after the check: %v", err)
	}
}

// TestWritesDuringARekey: writes on the server changing the key and on a
// replica while it does are either re-wrapped with the rest or refused;
// none is left under the old key.
func TestWritesDuringARekey(t *testing.T) {
	var mu sync.Mutex
	var logs bytes.Buffer
	quiet := func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return logs.Write(p)
		}), nil))
	}
	e := newEnv(t, quiet)
	ctx := context.Background()
	for i := range 20 {
		e.set(t, fmt.Sprintf("S%02d", i), "value")
	}
	replica := e.open(t, quiet)
	if err := replica.Unseal(ctx, SecretString(testMaster)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var errs []error
	for i, v := range []*Vault{e.v, replica} {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := v.Set(ctx, admin, fmt.Sprintf("W%d", i), SecretString(fmt.Sprintf("w%d-%d", i, n)), SetOptions{})
				k := usererr.KindOf(err)
				if err != nil && !errors.Is(err, ErrSealed) && k != usererr.Conflict {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	err := e.v.Rekey(ctx, admin, SecretString(testMaster), SecretString(newMaster))
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Fatalf("writes during the rekey failed otherwise than refused: %v", errs)
	}
	fresh := e.open(t)
	if err := fresh.Unseal(ctx, SecretString(newMaster)); err != nil {
		t.Fatal(err)
	}
	got := plaintexts(t, e, fresh) // fails on a version left under the old key
	t.Logf("%d versions, all open with the new key", len(got))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
