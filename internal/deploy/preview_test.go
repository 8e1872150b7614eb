package deploy

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// withPreviews gives f's service the preview policy p and returns the
// audit events it records from then on.
func withPreviews(f *fixture, p PreviewPolicy) func() []Event {
	var mu sync.Mutex
	var events []Event
	f.svc.opts.Previews = func(context.Context, string) PreviewPolicy { return p }
	f.svc.opts.Audit = func(_ context.Context, _ *sql.Tx, e Event) error {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
		return nil
	}
	return func() []Event { mu.Lock(); defer mu.Unlock(); return slices.Clone(events) }
}

func envNames(t *testing.T, f *fixture) []string {
	t.Helper()
	envs, err := f.svc.Environments(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range envs {
		names = append(names, e.Name)
	}
	return names
}

func newPreview(f *fixture, name string) error {
	return f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: name, Kind: "preview"})
}

// deleted returns the environments deleted with an env.delete event
// whose detail holds want.
func deleted(events []Event, want string) []string {
	var out []string
	for _, e := range events {
		if e.Action == "env.delete" && strings.Contains(e.Detail, want) {
			out = append(out, e.Environment)
		}
	}
	return out
}

// TestPreviewsOffRefuseAPreview: a project whose phoenix.yaml does not
// enable previews gets none, and the error says why and what to set.
func TestPreviewsOffRefuseAPreview(t *testing.T) {
	f := newFixture(t)
	withPreviews(f, PreviewPolicy{Why: "environments.staging.preview is false"})
	err := newPreview(f, "preview-pr-1")
	if usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "environments.staging.preview is false") ||
		!strings.Contains(usererr.HintOf(err), "environments.staging.preview") {
		t.Fatalf("a preview with previews off: %v (hint %q)", err, usererr.HintOf(err))
	}
	if slices.Contains(envNames(t, f), "preview-pr-1") {
		t.Fatal("the refused preview was created")
	}
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "qa"}); err != nil {
		t.Fatalf("a standard environment with previews off: %v", err)
	}
}

// TestPreviewMaxRemovesTheLeastRecentlyDeployed: a new preview beyond
// max deletes the preview deployed to longest ago (not the oldest
// created), audited; re-declaring an existing one deletes nothing.
func TestPreviewMaxRemovesTheLeastRecentlyDeployed(t *testing.T) {
	f := newFixture(t)
	events := withPreviews(f, PreviewPolicy{Enabled: true, Max: 2, Setting: "environments.staging.preview"})
	for _, name := range []string{"preview-a", "preview-b"} {
		if err := newPreview(f, name); err != nil {
			t.Fatal(err)
		}
	}
	f.deploy(t, "preview-b", "b1", map[string]string{"index.html": "b"})
	f.deploy(t, "preview-a", "a1", map[string]string{"index.html": "a"}) // a is now the most recently deployed
	if err := newPreview(f, "preview-a"); err != nil {
		t.Fatalf("re-declaring an existing preview at max: %v", err)
	}
	if err := newPreview(f, "preview-c"); err != nil {
		t.Fatal(err)
	}
	names := envNames(t, f)
	if slices.Contains(names, "preview-b") || !slices.Contains(names, "preview-a") || !slices.Contains(names, "preview-c") {
		t.Fatalf("after a third preview with max 2: %v, want preview-b (least recently deployed) gone", names)
	}
	if got := deleted(events(), "environments.staging.preview.max 2"); !slices.Equal(got, []string{"preview-b"}) {
		t.Fatalf("audited deletions: %v", got)
	}
}

// TestExpirePreviewsPastTheirTTL: previews not deployed to for longer
// than the ttl are deleted, audited; fresher ones and standard
// environments stay.
func TestExpirePreviewsPastTheirTTL(t *testing.T) {
	f := newFixture(t)
	events := withPreviews(f, PreviewPolicy{Enabled: true, TTL: time.Hour, Setting: "environments.staging.preview"})
	for _, name := range []string{"preview-old", "preview-new"} {
		if err := newPreview(f, name); err != nil {
			t.Fatal(err)
		}
	}
	f.deploy(t, "staging", "s1", map[string]string{"index.html": "s"})
	f.deploy(t, "preview-old", "o1", map[string]string{"index.html": "o"})
	cut := time.Now()
	f.deploy(t, "preview-new", "n1", map[string]string{"index.html": "n"})
	if n, err := f.svc.ExpirePreviews(ctx, cut.Add(59*time.Minute)); err != nil || n != 0 {
		t.Fatalf("within the ttl: %d deleted, %v", n, err)
	}
	if n, err := f.svc.ExpirePreviews(ctx, cut.Add(time.Hour+time.Millisecond)); err != nil || n != 1 {
		t.Fatalf("past the ttl of one: %d deleted, %v", n, err)
	}
	names := envNames(t, f)
	if slices.Contains(names, "preview-old") || !slices.Contains(names, "preview-new") || !slices.Contains(names, "staging") {
		t.Fatalf("after expiry: %v", names)
	}
	if got := deleted(events(), "environments.staging.preview.ttl 1h0m0s"); !slices.Equal(got, []string{"preview-old"}) {
		t.Fatalf("audited expiries: %v", got)
	}
	f.svc.opts.Previews = func(context.Context, string) PreviewPolicy { return PreviewPolicy{Enabled: true} }
	if n, err := f.svc.ExpirePreviews(ctx, cut.Add(1000*time.Hour)); err != nil || n != 0 {
		t.Fatalf("with no ttl: %d deleted, %v", n, err)
	}
}
