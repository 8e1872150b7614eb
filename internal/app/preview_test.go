package app

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
)

// useYAML stores body as project shop's phoenix.yaml, as 'phoenix
// deploy' hands it over.
func useYAML(t *testing.T, a *App, body string) {
	t.Helper()
	cfg, err := config.Parse([]byte(body), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.storeConfig(context.Background(), projectcfg.Entry{Project: "shop", Kind: projectcfg.Deploy, YAML: []byte(body)}, cfg); err != nil {
		t.Fatal(err)
	}
}

// deployPreview deploys a one-page release to the preview env of shop.
func deployPreview(t *testing.T, a *App, env, body string) {
	t.Helper()
	if err := a.Deploy.EnsureEnvironment(context.Background(), "shop", deploy.EnvSpec{Name: env, Kind: "preview"}); err != nil {
		t.Fatal(err)
	}
	up, d := beginPage(t, a, body)
	if err := a.Deploy.PutBlob(context.Background(), up, d, bytes.NewReader([]byte(body)), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	finalizePage(t, a, up, env)
}

const previewYAML = "project:\n  name: shop\nenvironments:\n  staging:\n    preview: {ttl: 1h}\n"

// TestExpiredPreviewStopsAnswering: the server's sweep deletes a preview
// past its phoenix.yaml's ttl, audited as its own actor, and its host
// name answers "unknown host"; a preview within its ttl is left alone.
func TestExpiredPreviewStopsAnswering(t *testing.T) {
	t.Parallel()
	a := start(t, t.TempDir())
	useYAML(t, a, previewYAML)
	deployPreview(t, a, "preview-pr-7", "<title>pr 7</title>")
	wantPage(t, a, "preview-pr-7", "<title>pr 7</title>")
	ctx := audit.WithActor(context.Background(), PreviewActor)
	if n, err := a.Deploy.ExpirePreviews(ctx, time.Now().Add(30*time.Minute)); err != nil || n != 0 {
		t.Fatalf("within the ttl: %d deleted, %v", n, err)
	}
	wantPage(t, a, "preview-pr-7", "<title>pr 7</title>")
	if n, err := a.Deploy.ExpirePreviews(ctx, time.Now().Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("past the ttl: %d deleted, %v", n, err)
	}
	if !unknownHost(t, a, "preview-pr-7")() {
		code, body := edgeGet(t, a, "preview-pr-7", "/")
		t.Fatalf("the expired preview is still served: %d %q", code, body)
	}
	recs, err := a.Audit.Query(context.Background(), audit.Filter{Action: "env.delete"})
	if err != nil || len(recs) != 1 || recs[0].Actor != PreviewActor || !strings.Contains(recs[0].Detail, "environments.staging.preview.ttl") {
		t.Fatalf("audit of the expiry: %+v %v", recs, err)
	}
}

// TestPreviewRefusedWhenPhoenixYAMLDoesNotEnableIt: the API refuses a
// preview environment of a project whose phoenix.yaml turns previews
// off, or that has none on the server, naming why; one enabling them
// gets it.
func TestPreviewRefusedWhenPhoenixYAMLDoesNotEnableIt(t *testing.T) {
	t.Parallel()
	a := start(t, t.TempDir())
	const path = "/api/v1/projects/shop/environments/preview-pr-1"
	if code, body := apiSend(t, a, "PUT", path, `{"kind":"preview"}`); code != http.StatusConflict ||
		!strings.Contains(body, "holds no phoenix.yaml of project shop") {
		t.Fatalf("with no phoenix.yaml: %d %s", code, body)
	}
	useYAML(t, a, "project:\n  name: shop\nenvironments:\n  staging:\n    preview: {enabled: false}\n")
	if code, body := apiSend(t, a, "PUT", path, `{"kind":"preview"}`); code != http.StatusConflict ||
		!strings.Contains(body, "environments.staging.preview is false") {
		t.Fatalf("with previews off: %d %s", code, body)
	}
	useYAML(t, a, previewYAML)
	if code, body := apiSend(t, a, "PUT", path, `{"kind":"preview"}`); code != http.StatusOK {
		t.Fatalf("with previews on: %d %s", code, body)
	}
}

// TestPreviewPolicyOfPhoenixYAML: the policy is that of the environment
// enabling previews; of several, the shortest ttl and the smallest max
// apply; previews turned off say which setting did it.
func TestPreviewPolicyOfPhoenixYAML(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want deploy.PreviewPolicy
	}{
		{"staging:\n    preview: true\n", deploy.PreviewPolicy{Enabled: true, TTL: defaultPreviewTTL, Setting: "environments.staging.preview"}},
		{"qa:\n    preview: {ttl: 2h, max: 5}\n  staging:\n    preview: {ttl: 1h, max: 0}\n",
			deploy.PreviewPolicy{Enabled: true, TTL: time.Hour, Max: 5, Setting: "environments.qa.preview"}},
		{"staging:\n    preview: false\n", deploy.PreviewPolicy{TTL: defaultPreviewTTL, Why: "environments.staging.preview is false"}},
		{"staging: {}\n", deploy.PreviewPolicy{TTL: defaultPreviewTTL, Why: "no environment of its phoenix.yaml sets preview"}},
	} {
		cfg, err := config.Parse([]byte("project: {name: shop}\nenvironments:\n  "+c.yaml), "phoenix.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if got := previewPolicyOf("shop", cfg); got != c.want {
			t.Errorf("%q: %+v, want %+v", c.yaml, got, c.want)
		}
	}
}
