package deploy

import (
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestUploadOfNoFilesIsRefused: a manifest that lists no files (an API
// client's own; artifact.Build refuses such a folder itself) starts no
// upload: it would deploy a site that answers 404 everywhere.
func TestUploadOfNoFilesIsRefused(t *testing.T) {
	f := newFixture(t)
	m, _ := manifestOf("v1", map[string]string{})
	canon, err := m.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.BeginUpload(ctx, "site", canon)
	if usererr.KindOf(err) != usererr.Invalid || !strings.Contains(err.Error(), "no files") || !strings.Contains(usererr.HintOf(err), "dist/") {
		t.Fatalf("upload of no files: %v (hint %q)", err, usererr.HintOf(err))
	}
}
