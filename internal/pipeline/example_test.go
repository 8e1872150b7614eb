package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/examples"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
)

// TestExampleReleasesThroughTheDefaultPipeline is what phoenix demo does:
// the bundled example released to staging and production in one run.
func TestExampleReleasesThroughTheDefaultPipeline(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		if requireTools() {
			t.Fatal("node is required (PHOENIX_REQUIRE_TOOLS=1)")
		}
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	db, blobs, dsvc := deployService(t, dir)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<title>Phoenix example</title>"))
	}))
	defer site.Close()
	f := &fixture{t: t, dir: dir, db: db, audit: &auditLog{}}
	f.svc = f.start(func(o *Options) {
		o.Deps = action.Deps{Deployer: action.DeployService{Svc: dsvc, Blobs: blobs}, Blobs: blobs,
			AdvisoryDir: filepath.Join(dir, "advisories"), EnvURL: func(string, string) string { return site.URL },
			HealthInterval: 10 * time.Millisecond}
	})
	proj := filepath.Join(dir, "example")
	if err := examples.CopyTo(examples.Site(), proj); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: proj, Version: "v1.0.0", Actor: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded {
		t.Fatalf("%s: %s\n%s", d.Status, d.Message, f.log(r.ID, ""))
	}
	if len(d.Environments) != 2 || activeOf(t, dsvc, "staging") == 0 || activeOf(t, dsvc, "production") == 0 {
		t.Fatalf("environments %v", d.Environments)
	}
}

func requireTools() bool { return getenv("PHOENIX_REQUIRE_TOOLS") == "1" }
