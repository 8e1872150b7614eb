package vault

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestSystemKeysNeverLeaveTheServer: the server's own keys are read and
// written by the server (a System subject) only. Anyone else, an admin
// included, may list them (marked System) and read their metadata, but
// every read of a value and every change is refused as Forbidden, names
// the key, never carries the value, and is audited as a denial. The data
// keys rotate, with a new key made inside the vault; the signing keys do
// not. Ordinary secrets are unaffected.
func TestSystemKeysNeverLeaveTheServer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	values := map[string]string{}
	for _, name := range SystemKeys() {
		val := "server-key-value-of-" + strings.ToLower(name)
		values[name] = val
		if _, err := e.v.Set(ctx, server, name, SecretString(val), SetOptions{Tags: map[string]string{"purpose": "test"}}); err != nil {
			t.Fatalf("the server sets %s: %v", name, err)
		}
	}
	e.set(t, "API_TOKEN", "ordinary")
	run := Subject{Actor: "pipeline release#1", Pipeline: "release", Environment: "production", Production: true}

	refused := func(t *testing.T, name, what string, err error) {
		t.Helper()
		if usererr.KindOf(err) != usererr.Forbidden || !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), name+" is one of the server's own keys") {
			t.Fatalf("%s of %s: %v, want forbidden naming the key", what, name, err)
		}
		if strings.Contains(err.Error()+usererr.HintOf(err), values[name]) {
			t.Fatalf("%s of %s: the error carries the value", what, name)
		}
	}
	for _, name := range SystemKeys() {
		t.Run(name, func(t *testing.T) {
			before := len(e.audit.all())
			_, _, err := e.v.Get(ctx, admin, name, 0)
			refused(t, name, "read", err)
			_, _, err = e.v.Get(ctx, admin, name, 1)
			refused(t, name, "read of version 1", err)
			_, err = e.v.Resolve(ctx, "secret:"+name, run)
			refused(t, name, "a pipeline run's read", err)
			_, err = e.v.Set(ctx, admin, name, SecretString("planted"), SetOptions{})
			refused(t, name, "set", err)
			_, err = e.v.Import(ctx, admin, []EnvEntry{{Name: "OTHER", Line: 1, Value: SecretString("xxxx")},
				{Name: name, Line: 2, Value: SecretString("planted")}}, ImportOptions{Overwrite: true})
			refused(t, name, "import", err)
			if !strings.HasPrefix(err.Error(), "line 2: ") {
				t.Errorf("import error names no line: %v", err)
			}
			_, err = e.v.Delete(ctx, admin, name)
			refused(t, name, "delete", err)
			refused(t, name, "purge", e.v.Purge(ctx, admin, name))
			refused(t, name, "recover", e.v.Recover(ctx, admin, name))
			refused(t, name, "disable", e.v.SetEnabled(ctx, admin, name, 1, false))
			refused(t, name, "tags", e.v.SetTags(ctx, admin, name, map[string]string{}))
			refused(t, name, "rotation policy", e.v.SetRotation(ctx, admin, name,
				&RotationPolicy{EveryDays: 1, Generator: GeneratorSpec{Type: "random"}}))
			var denied int
			for _, ev := range e.audit.all()[before:] {
				if ev.Outcome == OutcomeDenied && ev.Target == "secret/"+name {
					denied++
				}
				if ev.Outcome == OutcomeOK && ev.Action != "secret.list" {
					t.Errorf("a refused action was audited as done: %+v", ev)
				}
			}
			if denied < 11 {
				t.Errorf("%d denials audited, want one per refusal", denied)
			}

			in, err := e.v.Describe(ctx, admin, name)
			if err != nil || !in.System || in.Version != 1 || in.Tags["purpose"] != "test" {
				t.Fatalf("Describe: %+v %v", in, err)
			}
			if _, err := e.v.History(ctx, admin, name); err != nil {
				t.Fatalf("History: %v", err)
			}
			if s, _, err := e.v.Get(ctx, server, name, 0); err != nil || s.Reveal() != values[name] {
				t.Fatalf("the server reads its key: %v", err)
			}

			vi, err := e.v.Rotate(ctx, admin, name)
			if systemKeys[name].rotate == nil {
				refused(t, name, "rotate", err)
				if !strings.Contains(usererr.HintOf(err), "verify only with the key that signed them") {
					t.Errorf("rotate hint: %q", usererr.HintOf(err))
				}
				return
			}
			if err != nil || vi.Version != 2 || vi.ContentType != "application/octet-stream" {
				t.Fatalf("rotate: %+v %v", vi, err)
			}
			s, _, err := e.v.Get(ctx, server, name, 0)
			if err != nil {
				t.Fatal(err)
			}
			if key, err := base64.StdEncoding.DecodeString(s.Reveal()); err != nil || len(key) != 32 {
				t.Fatalf("the rotated %s is not a base64 32-byte key: %v", name, err)
			}
			if in, _ := e.v.Describe(ctx, admin, name); in.Tags["purpose"] != "test" {
				t.Errorf("rotation dropped the tags: %v", in.Tags)
			}
		})
	}

	list, err := e.v.List(ctx, admin, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range list {
		if in.System != IsSystemKey(in.Name) {
			t.Errorf("List: %s System = %v", in.Name, in.System)
		}
	}
	if len(list) != len(SystemKeys())+1 {
		t.Errorf("List has %d secrets, want %d", len(list), len(SystemKeys())+1)
	}
	if got := e.get(t, "API_TOKEN", 0); got != "ordinary" {
		t.Fatalf("an ordinary secret reads %q", got)
	}
	e.set(t, "API_TOKEN", "ordinary 2")
	if _, err := e.v.Delete(ctx, admin, "API_TOKEN"); err != nil {
		t.Fatalf("an ordinary secret cannot be deleted: %v", err)
	}
	if strings.Contains(e.logs.String(), "server-key-value-of-") {
		t.Fatal("a system key's value is in the log")
	}
}

// TestServerLookingForItsNewKeysIsNoFailedRead: the server looking up one
// of its own keys before it has made it finds nothing, and that is not a
// failed secret.read in the audit log; making the key is audited, and so
// are anyone else's reads of a missing secret and the server's failed
// reads of a key that exists.
func TestServerLookingForItsNewKeysIsNoFailedRead(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	before := len(e.audit.all()) // vault.init
	for _, name := range SystemKeys() {
		if _, _, err := e.v.Get(ctx, server, name, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the server's lookup of a missing %s: %v, want not found", name, err)
		}
	}
	if got := e.audit.all()[before:]; len(got) != 0 {
		t.Fatalf("the server's lookups of its missing keys were audited: %+v", got)
	}
	if _, err := e.v.Set(ctx, server, AuditKeyName, SecretString("kkkk"), SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if !e.audit.has("secret.write", OutcomeOK) {
		t.Errorf("making the key was not audited: %+v", e.audit.all())
	}
	if _, _, err := e.v.Get(ctx, server, AuditKeyName, 7); err == nil {
		t.Fatal("read a version that does not exist")
	}
	if !e.audit.has("secret.read", OutcomeFailed) {
		t.Errorf("the server's failed read of an existing key was not audited: %+v", e.audit.all())
	}
	n := len(e.audit.all())
	if _, _, err := e.v.Get(ctx, admin, "NOT_THERE", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an admin's read of a missing secret: %v", err)
	}
	if got := e.audit.all(); len(got) != n+1 || got[n].Action != "secret.read" || got[n].Outcome != OutcomeFailed {
		t.Errorf("an admin's read of a missing secret was not audited as failed: %+v", got)
	}
}
