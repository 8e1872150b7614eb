package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployPreviewNeedsPreviewsOn: 'phoenix deploy --preview' is
// refused, exit 1, naming the setting, when phoenix.yaml turns previews
// off; the same file with previews on deploys it.
func TestDeployPreviewNeedsPreviewsOn(t *testing.T) {
	unsetEnv(t, "PHOENIX_ENV", "PHOENIX_PREVIEW", "PHOENIX_PROJECT", "PHOENIX_SERVER")
	siteDir(t, "project: {name: shop}\nenvironments:\n  staging: {preview: false}\n")
	t.Setenv("PHOENIX_DATA", filepath.Join(t.TempDir(), "data"))
	if _, errs, code := run("deploy", "dist", "--preview", "feat"); code != 1 ||
		!strings.Contains(errs, "previews are off for project shop: environments.staging.preview is false") {
		t.Fatalf("--preview with previews off: exit %d: %s", code, errs)
	}
	siteDir(t, "project: {name: shop}\nenvironments:\n  staging: {preview: true}\n")
	if out, errs, code := run("deploy", "dist", "--preview", "feat"); code != 0 || !strings.Contains(out, "shop/preview-feat") {
		t.Fatalf("--preview with previews on: exit %d: %s%s", code, out, errs)
	}
}
