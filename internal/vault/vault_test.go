package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

func TestSealedVaultRefusesEverySecretOperation(t *testing.T) {
	e := newEnv(t)
	e.set(t, "API_KEY", "val1")
	v := e.open(t) // a restarted server: no master key yet
	ctx := context.Background()
	if !v.Sealed() {
		t.Fatal("a new Vault is not sealed")
	}
	ops := map[string]func() error{
		"get":     func() error { _, _, err := v.Get(ctx, admin, "API_KEY", 0); return err },
		"set":     func() error { _, err := v.Set(ctx, admin, "API_KEY", SecretString("xxxx"), SetOptions{}); return err },
		"list":    func() error { _, err := v.List(ctx, admin, ListOptions{}); return err },
		"history": func() error { _, err := v.History(ctx, admin, "API_KEY"); return err },
		"delete":  func() error { _, err := v.Delete(ctx, admin, "API_KEY"); return err },
		"rotate":  func() error { _, err := v.Rotate(ctx, admin, "API_KEY"); return err },
		"resolve": func() error { _, err := v.Resolve(ctx, "API_KEY", admin); return err },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			err := op()
			if !errors.Is(err, ErrSealed) || usererr.KindOf(err) != usererr.Unavailable {
				t.Fatalf("err = %v, want sealed", err)
			}
			if !strings.Contains(err.Error(), "vault is sealed; run phoenix vault unseal") {
				t.Errorf("message %q is not the documented one", err)
			}
		})
	}
	st, err := v.Status(ctx)
	if err != nil || !st.Initialized || !st.Sealed || st.Secrets != 1 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if err := v.Unseal(ctx, SecretString(testMaster)); err != nil {
		t.Fatal(err)
	}
	if s, _, err := v.Get(ctx, admin, "API_KEY", 0); err != nil || s.Reveal() != "val1" {
		t.Fatalf("after unseal: %v", err)
	}
	v.Seal()
	if _, _, err := v.Get(ctx, admin, "API_KEY", 0); !errors.Is(err, ErrSealed) {
		t.Fatalf("after Seal: %v", err)
	}
}

func TestInitTwiceAndUninitialized(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.v.Init(ctx, SecretString("another master key")); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("second Init: %v", err)
	}
	if err := e.v.Init(ctx, SecretString("short")); usererr.KindOf(err) != usererr.Invalid {
		t.Fatalf("short key: %v", err)
	}
	fresh := &env{dir: t.TempDir(), clock: e.clock, audit: e.audit, logs: e.logs}
	fresh.db = openDB(t, fresh.dir)
	defer fresh.db.Close()
	v := fresh.open(t)
	err := v.Unseal(ctx, SecretString(testMaster))
	if !errors.Is(err, ErrNotInitialized) || !strings.Contains(usererr.HintOf(err), "phoenix vault init") {
		t.Fatalf("unseal of an uninitialized vault: %v (hint %q)", err, usererr.HintOf(err))
	}
	if st, err := v.Status(ctx); err != nil || st.Initialized {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	// An operation says the vault is not initialized, not "run phoenix
	// vault unseal" (there is no key to give yet); it is still sealed.
	_, _, err = v.Get(ctx, admin, "API_KEY", 0)
	if !errors.Is(err, ErrNotInitialized) || !errors.Is(err, ErrSealed) || usererr.KindOf(err) != usererr.Unavailable ||
		!strings.Contains(err.Error(), "vault is not initialized") || !strings.Contains(usererr.HintOf(err), "phoenix vault init") {
		t.Fatalf("get on an uninitialized vault: %v (hint %q)", err, usererr.HintOf(err))
	}
}

func TestVersions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i, val := range []string{"one1", "two2", "three"} {
		if vi := e.set(t, "TOKEN", val); vi.Version != i+1 || !vi.Enabled || vi.CreatedBy != "alice" {
			t.Fatalf("version %d: %+v", i+1, vi)
		}
	}
	tests := []struct {
		name    string
		version int
		want    string
	}{{"latest", 0, "three"}, {"first", 1, "one1"}, {"second", 2, "two2"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.get(t, "TOKEN", tt.version); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	if err := e.v.SetEnabled(ctx, admin, "TOKEN", 3, false); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, "TOKEN", 0); got != "two2" {
		t.Fatalf("latest with v3 disabled = %q, want two", got)
	}
	if _, _, err := e.v.Get(ctx, admin, "TOKEN", 3); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("reading a disabled version: %v", err)
	}
	if _, _, err := e.v.Get(ctx, admin, "TOKEN", 9); usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("reading a missing version: %v", err)
	}
	if err := e.v.SetEnabled(ctx, admin, "TOKEN", 9, false); usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("disabling a missing version: %v", err)
	}
	h, err := e.v.History(ctx, admin, "TOKEN")
	if err != nil || len(h) != 3 || h[0].Version != 3 || h[0].Enabled || h[0].Warnings[0] != "disabled" {
		t.Fatalf("History = %+v, %v", h, err)
	}
	if err := e.v.SetEnabled(ctx, admin, "TOKEN", 3, true); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, "TOKEN", 0); got != "three" {
		t.Fatalf("latest after enable = %q", got)
	}
	if _, _, err := e.v.Get(ctx, admin, "NOPE", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing secret: %v", err)
	}
	if _, err := e.v.Set(ctx, admin, "1BAD-NAME", SecretString("xxxx"), SetOptions{}); usererr.KindOf(err) != usererr.Invalid {
		t.Fatalf("bad name: %v", err)
	}
}

func TestAttributesAndWarnings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	prod := true
	_, err := e.v.Set(ctx, admin, "WEBHOOK", SecretString("https://hooks.example/x"), SetOptions{
		ContentType: "text/uri-list", Tags: map[string]string{"team": "web", "env": "prod"},
		ExpiresAt: now.Add(10 * 24 * time.Hour), Production: &prod})
	if err != nil {
		t.Fatal(err)
	}
	in, err := e.v.Describe(ctx, admin, "WEBHOOK")
	if err != nil {
		t.Fatal(err)
	}
	if in.ContentType != "text/uri-list" || in.Tags["team"] != "web" || !in.Production || in.Kind != KindSecret {
		t.Fatalf("Describe = %+v", in)
	}
	if len(in.Warnings) != 1 || !strings.HasPrefix(in.Warnings[0], "expires in 10 days") {
		t.Fatalf("warnings = %q", in.Warnings)
	}
	e.clock.Add(11 * 24 * time.Hour)
	_, vi, err := e.v.Get(ctx, admin, "WEBHOOK", 0)
	if err != nil || len(vi.Warnings) != 1 || !strings.HasPrefix(vi.Warnings[0], "expired on") {
		t.Fatalf("expired read: %+v, %v", vi.Warnings, err)
	}
	if err := e.v.SetTags(ctx, admin, "WEBHOOK", map[string]string{"team": "ops"}); err != nil {
		t.Fatal(err)
	}
	if in, _ := e.v.Describe(ctx, admin, "WEBHOOK"); len(in.Tags) != 1 || in.Tags["team"] != "ops" {
		t.Fatalf("tags = %v", in.Tags)
	}
	// A staged version (not-before in the future) is not served as latest.
	later := e.clock.Now().Add(48 * time.Hour)
	if _, err := e.v.Set(ctx, admin, "WEBHOOK", SecretString("https://hooks.example/y"), SetOptions{NotBefore: later}); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, "WEBHOOK", 0); got != "https://hooks.example/x" {
		t.Fatalf("latest before not-before = %q", got)
	}
	if _, _, err := e.v.Get(ctx, admin, "WEBHOOK", 2); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("reading a version before its not-before: %v", err)
	}
	e.clock.Add(49 * time.Hour)
	if got := e.get(t, "WEBHOOK", 0); got != "https://hooks.example/y" {
		t.Fatalf("latest after not-before = %q", got)
	}
	bad := SetOptions{NotBefore: later, ExpiresAt: later.Add(-time.Hour)}
	if _, err := e.v.Set(ctx, admin, "WEBHOOK", SecretString("zzzz"), bad); usererr.KindOf(err) != usererr.Invalid {
		t.Fatalf("expiry before not-before: %v", err)
	}
}

func TestSoftDeleteRecoverPurge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "OLD", "value")
	e.set(t, "KEEP", "value")
	purgeAt, err := e.v.Delete(ctx, admin, "OLD")
	if err != nil || !purgeAt.Equal(e.clock.Now().Add(90*24*time.Hour)) {
		t.Fatalf("Delete = %v, %v", purgeAt, err)
	}
	if _, _, err := e.v.Get(ctx, admin, "OLD", 0); !errors.Is(err, ErrNotFound) || !strings.Contains(usererr.HintOf(err), "recover") {
		t.Fatalf("read of a deleted secret: %v", err)
	}
	if _, err := e.v.Set(ctx, admin, "OLD", SecretString("new-value"), SetOptions{}); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("set on a deleted secret: %v", err)
	}
	if _, err := e.v.Delete(ctx, admin, "OLD"); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("second delete: %v", err)
	}
	live, _ := e.v.List(ctx, admin, ListOptions{})
	deleted, _ := e.v.List(ctx, admin, ListOptions{Deleted: true})
	if len(live) != 1 || live[0].Name != "KEEP" || len(deleted) != 1 || deleted[0].Name != "OLD" {
		t.Fatalf("live %v deleted %v", live, deleted)
	}
	if err := e.v.Recover(ctx, admin, "OLD"); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, "OLD", 0); got != "value" {
		t.Fatalf("after recover: %q", got)
	}
	if err := e.v.Purge(ctx, admin, "OLD"); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("purge of a live secret: %v", err)
	}
	e.v.Delete(ctx, admin, "OLD")
	if err := e.v.Purge(ctx, admin, "OLD"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Describe(ctx, admin, "OLD"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after purge: %v", err)
	}
	// The recovery window: nothing is purged before it ends.
	e.v.Delete(ctx, admin, "KEEP")
	e.clock.Add(89 * 24 * time.Hour)
	if n, err := e.v.PurgeExpired(ctx); err != nil || len(n) != 0 {
		t.Fatalf("PurgeExpired at 89 days = %v, %v", n, err)
	}
	e.clock.Add(2 * 24 * time.Hour)
	if n, err := e.v.PurgeExpired(ctx); err != nil || len(n) != 1 || n[0] != "KEEP" {
		t.Fatalf("PurgeExpired at 91 days = %v, %v", n, err)
	}
	if st, _ := e.v.Status(ctx); st.Secrets != 0 || st.Deleted != 0 {
		t.Fatalf("status after purge: %+v", st)
	}
	var versions int
	e.db.QueryRow(`SELECT COUNT(*) FROM vault_versions`).Scan(&versions)
	if versions != 0 {
		t.Fatalf("%d versions left after purge", versions)
	}
}

func TestRecoveryWindowOption(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RecoveryWindow = 7 * 24 * time.Hour })
	e.set(t, "X", "yyyy")
	at, err := e.v.Delete(context.Background(), admin, "X")
	if err != nil || !at.Equal(e.clock.Now().Add(7*24*time.Hour)) {
		t.Fatalf("Delete = %v, %v", at, err)
	}
}

func TestConcurrentUseAndSeal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "A", "alpha")
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			var err error
			for j := 0; j < 20 && err == nil; j++ {
				var s Secret
				s, _, err = e.v.Get(ctx, admin, "A", 0)
				if errors.Is(err, ErrSealed) {
					err = nil
				} else if err == nil && s.Reveal() != "alpha" {
					err = errors.New("wrong value")
				}
			}
			done <- err
		}()
	}
	e.v.Seal()
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatalf("a read racing with Seal: %v", err)
		}
	}
}

// TestMissingSecretsAuditedWithoutTheirName: the audit log keeps what it
// records for ever, so a read of a name no secret has records it only in
// the usual style of a vault name; any other (a TSIG key's base64 secret
// given as a name by mistake) is recorded by a fingerprint.
func TestMissingSecretsAuditedWithoutTheirName(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const pasted = "q3Ufk7cXbA9ZrT2mLw8YpNe4HsVd6GjK1oRiUxEzCy5tQaWnBv0MlOgPhSfDkJ7e"
	for _, name := range []string{"ACME_TSIG", pasted} {
		if _, _, err := e.v.Get(ctx, admin, name, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%s): %v", name, err)
		}
	}
	var targets []string
	for _, ev := range e.audit.all() {
		if ev.Action == "secret.read" {
			targets = append(targets, ev.Target+" "+ev.Detail)
			if strings.Contains(ev.Target+ev.Detail, pasted[:16]) {
				t.Errorf("the audit log holds the name given: %+v", ev)
			}
		}
	}
	if len(targets) != 2 || targets[0] != "secret/ACME_TSIG no secret has this name" ||
		!strings.HasPrefix(targets[1], "secret/(a name of 64 characters, sha256 ") {
		t.Fatalf("audited reads: %q", targets)
	}
}

// TestCheckKeyChangesNothing: CheckKey (what 'phoenix vault status' asks
// with a key) tells a right key from a wrong one and leaves the seal as
// it was: a sealed vault stays sealed, an unsealed one keeps its key, and
// OnUnseal is not called.
func TestCheckKeyChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.set(t, "API_KEY", "val1")
	unseals := 0
	v := e.open(t, func(o *Options) { o.OnUnseal = func(context.Context) { unseals++ } }) // sealed
	ctx := context.Background()
	if err := v.CheckKey(ctx, SecretString(testMaster)); err != nil {
		t.Fatalf("CheckKey with the right key: %v", err)
	}
	if !v.Sealed() || unseals != 0 {
		t.Fatalf("after CheckKey with the right key: sealed %v, OnUnseal called %d times; want still sealed, not called", v.Sealed(), unseals)
	}
	if _, _, err := v.Get(ctx, admin, "API_KEY", 0); !errors.Is(err, ErrSealed) {
		t.Fatalf("a secret read after CheckKey: %v, want sealed", err)
	}
	err := v.CheckKey(ctx, SecretString("a wrong master key, long enough"))
	if !errors.Is(err, ErrWrongKey) || usererr.KindOf(err) != usererr.Invalid || !v.Sealed() {
		t.Fatalf("CheckKey with a wrong key: %v (sealed %v)", err, v.Sealed())
	}
	if !e.audit.has("vault.check", OutcomeFailed) {
		t.Errorf("audit: %+v, want a failed vault.check", e.audit.all())
	}
	// An unsealed vault keeps its key whatever the check says.
	if err := v.Unseal(ctx, SecretString(testMaster)); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{testMaster, "a wrong master key, long enough"} {
		_ = v.CheckKey(ctx, SecretString(k))
		if s, _, err := v.Get(ctx, admin, "API_KEY", 0); err != nil || s.Reveal() != "val1" {
			t.Fatalf("a read after CheckKey of an unsealed vault: %v", err)
		}
	}
	fresh := &env{db: openDB(t, t.TempDir()), clock: e.clock, audit: e.audit, logs: e.logs}
	defer fresh.db.Close()
	if err := fresh.open(t).CheckKey(ctx, SecretString(testMaster)); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("CheckKey of a vault never initialized: %v", err)
	}
}

// TestPastedNamesStayOutOfTheRecords: a value pasted where a secret's
// name belongs (a GitHub token, a JWT) that names no secret is recorded
// by its fingerprint in every record the vault writes of it (a delete,
// disable, recover, purge, tag or rotation of a missing name, a denial by
// the policy), and no error the caller gets repeats it (those messages
// reach the API's record of a refused change). A secret that exists is
// still recorded by its name.
func TestPastedNamesStayOutOfTheRecords(t *testing.T) {
	p := Policy{Rules: []Rule{{Secrets: []string{"*"}, Roles: []string{"admin"}, Allow: []Permission{PermRead, PermList, PermWrite}}}}
	e := newEnv(t, func(o *Options) { o.Policy = &p })
	ctx := context.Background()
	const token = "ghp_PastedTokenValue0123456789abcdefABCD"
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXBhc3RlZA"
	viewer := Subject{Actor: "vic", Roles: []string{"viewer"}}
	random := &RotationPolicy{EveryDays: 1, Generator: GeneratorSpec{Type: "random"}}
	var errs []error
	for _, name := range []string{token, jwt} {
		_, err := e.v.Delete(ctx, admin, name)
		errs = append(errs, err,
			e.v.Recover(ctx, admin, name),
			e.v.Purge(ctx, admin, name),
			e.v.SetEnabled(ctx, admin, name, 1, false),
			e.v.SetTags(ctx, admin, name, map[string]string{"a": "b"}),
			e.v.SetRotation(ctx, admin, name, random),
			e.v.SetRotation(ctx, admin, name, &RotationPolicy{}))
		_, err = e.v.Rotate(ctx, admin, name)
		errs = append(errs, err)
		_, err = e.v.SetCertificate(ctx, admin, name, SecretString("not a PEM bundle"), SetOptions{})
		errs = append(errs, err)
		_, err = e.v.Set(ctx, viewer, name, SecretString("a value"), SetOptions{})
		errs = append(errs, err)
		_, err = e.v.Describe(ctx, viewer, name)
		errs = append(errs, err)
		_, err = e.v.Import(ctx, viewer, []EnvEntry{{Name: name, Line: 1, Value: SecretString("a value")}}, ImportOptions{})
		errs = append(errs, err)
		_, _, err = e.v.Get(ctx, admin, name, 0)
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("an operation on a name no secret has succeeded")
		}
		for _, v := range []string{token, jwt[:20], "PastedTokenValue"} {
			if strings.Contains(err.Error()+usererr.HintOf(err), v) {
				t.Errorf("an error repeats the name given: %v (hint %q)", err, usererr.HintOf(err))
			}
		}
	}
	_, err := e.v.Delete(ctx, admin, jwt)
	if want := "secret name " + AuditedName(jwt) + ` is invalid: its character 21 is "."; use letters`; !strings.HasPrefix(fmt.Sprint(err), want) {
		t.Errorf("an invalid name: %v, want %s…", err, want)
	}
	var denials, failures int
	for _, ev := range e.audit.all() {
		if strings.Contains(ev.Target+" "+ev.Detail, "PastedTokenValue") || strings.Contains(ev.Target+" "+ev.Detail, jwt[:20]) {
			t.Errorf("the audit log holds the name given: %+v", ev)
		}
		switch {
		case ev.Outcome == OutcomeDenied && strings.HasPrefix(ev.Target, "secret/(a name of 40 characters, sha256 "):
			denials++
		case ev.Outcome == OutcomeFailed && strings.HasPrefix(ev.Target, "secret/(a name of 40 characters, sha256 "):
			failures++
		}
	}
	if denials < 3 || failures < 5 {
		t.Errorf("records by fingerprint: %d denials, %d failures, want at least 3 and 5: %+v", denials, failures, e.audit.all())
	}
	if logs := e.logs.String(); strings.Contains(logs, "PastedTokenValue") || strings.Contains(logs, jwt[:20]) {
		t.Errorf("the server log holds the name given:\n%s", logs)
	}
	// A secret that exists, in any style, is recorded by its name.
	e.set(t, "ghp_looks_like_a_token_but_is_a_name", "val1")
	if err := e.v.SetEnabled(ctx, admin, "ghp_looks_like_a_token_but_is_a_name", 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Set(ctx, viewer, "ghp_looks_like_a_token_but_is_a_name", SecretString("xxxx"), SetOptions{}); !errors.Is(err, ErrDenied) {
		t.Fatal(err)
	}
	all := e.audit.all()
	if got := all[len(all)-2].Target + " | " + all[len(all)-1].Target; got != "secret/ghp_looks_like_a_token_but_is_a_name@1 | secret/ghp_looks_like_a_token_but_is_a_name" {
		t.Errorf("records of an existing secret: %s", got)
	}
	if got := e.v.RecordedName(ctx, "ghp_looks_like_a_token_but_is_a_name"); got != "ghp_looks_like_a_token_but_is_a_name" {
		t.Errorf("RecordedName of an existing secret = %q", got)
	}
	if got := e.v.RecordedName(ctx, token); !strings.HasPrefix(got, "(a name of 40 characters, sha256 ") {
		t.Errorf("RecordedName of a pasted token = %q", got)
	}
}
