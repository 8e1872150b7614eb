package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// unknownHost reports whether a's edge no longer serves env of shop.
func unknownHost(t *testing.T, a *App, env string) func() bool {
	return func() bool {
		code, body := edgeGet(t, a, env, "/")
		return code == http.StatusNotFound && strings.Contains(body, "unknown host")
	}
}

// TestDeletedEnvironmentLeavesTheEdge: an environment deleted through the
// API is no longer served by the edge (it answered with its last release
// until the server restarted).
func TestDeletedEnvironmentLeavesTheEdge(t *testing.T) {
	t.Parallel()
	a := start(t, t.TempDir())
	deployPage(t, a, "preview-pr-7", "<title>pr 7</title>")
	wantPage(t, a, "preview-pr-7", "<title>pr 7</title>")
	if code, body := apiDo(t, a, "DELETE", "/api/v1/projects/shop/environments/preview-pr-7"); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	if !unknownHost(t, a, "preview-pr-7")() {
		code, body := edgeGet(t, a, "preview-pr-7", "/")
		t.Fatalf("the deleted environment is still served: %d %q", code, body)
	}
}

// TestReplicasDropADeletedEnvironment: an environment deleted through one
// replica leaves every replica's edge, through the notification, and
// through the poll when the deletion was announced to nobody.
func TestReplicasDropADeletedEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, a, b := twoReplicas(t)
	deployPage(t, a, "preview-pr-7", "<title>pr 7</title>")
	eventually(t, "B serves the preview", pageIs(t, b, "preview-pr-7", "<title>pr 7</title>"))
	if code, body := apiDo(t, b, "DELETE", "/api/v1/projects/shop/environments/preview-pr-7"); code != http.StatusNoContent {
		t.Fatalf("delete through B: %d %s", code, body)
	}
	eventually(t, "B drops the deleted preview", unknownHost(t, b, "preview-pr-7"))
	eventually(t, "A drops the preview deleted through B", unknownHost(t, a, "preview-pr-7"))

	// Deleted with no announcement: the poll drops it on both.
	deployPage(t, a, "preview-pr-8", "<title>pr 8</title>")
	eventually(t, "B serves pr 8", pageIs(t, b, "preview-pr-8", "<title>pr 8</title>"))
	for _, q := range []string{
		`UPDATE environments SET active_id = NULL WHERE project = 'shop' AND name = 'preview-pr-8'`,
		`DELETE FROM deployments WHERE project = 'shop' AND environment = 'preview-pr-8'`,
		`DELETE FROM environments WHERE project = 'shop' AND name = 'preview-pr-8'`,
	} {
		if _, err := a.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "A polls the deletion", unknownHost(t, a, "preview-pr-8"))
	eventually(t, "B polls the deletion", unknownHost(t, b, "preview-pr-8"))
}
