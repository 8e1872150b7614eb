package vault

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOnChangeNamesEveryChangedSecret checks that every change to a
// secret's value or state reaches OnChange with its name (the server
// reloads the notification channels that read it), that a refused
// change does not, and that the hook is never given a value.
func TestOnChangeNamesEveryChangedSecret(t *testing.T) {
	var mu sync.Mutex
	var got []string
	e := newEnv(t, func(o *Options) {
		o.OnChange = func(_ context.Context, name string) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, name)
		}
	})
	ctx := context.Background()
	e.set(t, "HOOK_URL", "https://example.test/hook-value-1")
	if _, err := e.v.Set(ctx, admin, "bad name", SecretString("x-value-too"), SetOptions{}); err == nil {
		t.Fatal("a bad name was accepted")
	}
	pol := &RotationPolicy{EveryDays: 30, Generator: GeneratorSpec{Type: "random", Length: 40}}
	steps := []func() error{
		func() error { return e.v.SetRotation(ctx, admin, "HOOK_URL", pol) },
		func() error { _, err := e.v.Rotate(ctx, admin, "HOOK_URL"); return err },
		func() error { return e.v.SetEnabled(ctx, admin, "HOOK_URL", 2, false) },
		func() error { _, err := e.v.Delete(ctx, admin, "HOOK_URL"); return err },
		func() error { return e.v.Recover(ctx, admin, "HOOK_URL") },
		func() error {
			entries, err := ParseDotenv(strings.NewReader("IMPORTED=imported-value\n"))
			if err == nil {
				_, err = e.v.Import(ctx, admin, entries, ImportOptions{})
			}
			return err
		},
		func() error { _, err := e.v.Delete(ctx, admin, "IMPORTED"); return err },
		func() error { e.clock.Add(91 * 24 * time.Hour); _, err := e.v.PurgeExpired(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := []string{"HOOK_URL", "HOOK_URL", "HOOK_URL", "HOOK_URL", "HOOK_URL", "HOOK_URL", "IMPORTED", "IMPORTED", "IMPORTED"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("OnChange got %q, want %q", got, want)
	}
}

// TestStampFollowsChanges checks that Stamp changes with every change
// OnChange reports, stays put otherwise, and never holds a value.
func TestStampFollowsChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	stamp := func() string {
		t.Helper()
		s, err := e.v.Stamp(ctx, []string{"HOOK_URL", "OTHER", "HOOK_URL"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(s, "hook-value") {
			t.Fatalf("stamp holds a value: %q", s)
		}
		return s
	}
	seen := map[string]bool{stamp(): true}
	changes := []func() error{
		func() error {
			_, err := e.v.Set(ctx, admin, "HOOK_URL", SecretString("https://example.test/hook-value-1"), SetOptions{})
			return err
		},
		func() error {
			_, err := e.v.Set(ctx, admin, "HOOK_URL", SecretString("https://example.test/hook-value-2"), SetOptions{})
			return err
		},
		func() error { e.clock.Add(time.Second); return e.v.SetEnabled(ctx, admin, "HOOK_URL", 2, false) },
		func() error { e.clock.Add(time.Second); _, err := e.v.Delete(ctx, admin, "HOOK_URL"); return err },
		func() error { e.clock.Add(time.Second); return e.v.Recover(ctx, admin, "HOOK_URL") },
	}
	for i, change := range changes {
		if err := change(); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		s := stamp()
		if seen[s] {
			t.Fatalf("change %d left the stamp as before: %q", i, s)
		}
		seen[s] = true
		if again := stamp(); again != s {
			t.Fatalf("stamp moved without a change: %q then %q", s, again)
		}
	}
}
