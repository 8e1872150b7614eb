package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
)

// secretBuildYAML is a project whose build writes BUILD_LINE into
// dist/env.js. The source tree holds no secret: the key only exists once
// the build has assembled it (printf), as with a key a bundler inlines.
const secretBuildYAML = `
project: {name: leaky}
checks:
  audit: {enabled: false}
  licenses: {enabled: false}
  sbom: {enabled: false}
build:
  install: "true"
  command: mkdir -p dist && echo '<h1>ok</h1>' > dist/index.html && printf BUILD_LINE > dist/env.js
  output: dist
environments:
  staging: {}
`

// TestReleaseScansTheBuildOutput releases through the default plan a
// build that writes an AWS key into its output: the secrets gate fails,
// nothing is packaged or deployed, and the run's security report shows the
// finding. The same project with a clean build is deployed.
func TestReleaseScansTheBuildOutput(t *testing.T) {
	tests := []struct {
		name, line string
		want       string
	}{
		{"secret in dist", `'export const k = "AKIA%s";\n' Z7QW3RT5YU2OP4LK`, Failed},
		{"clean dist", `'export const region = "eu-west-1";\n'`, Succeeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, dsvc := secretGateFixture(t)
			proj := f.project(strings.Replace(secretBuildYAML, "BUILD_LINE", tt.line, 1))
			os.WriteFile(filepath.Join(proj, "package.json"), []byte(`{"name":"leaky","version":"1.0.0"}`), 0o644)
			d := f.wait(f.release(proj, "v1.0.0").ID)
			if d.Status != tt.want {
				t.Fatalf("release %s, want %s\n%s", d.Status, tt.want, f.log(d.ID, ""))
			}
			g, err := f.svc.Gates(context.Background(), d.ID)
			if err != nil || g.Secrets == nil {
				t.Fatalf("gates %+v, %v", g, err)
			}
			var off []string // the default plan left these out, and recorded why
			for _, c := range g.Disabled {
				off = append(off, c.Check+" "+c.Setting+" at "+c.At)
			}
			if want := []string{"audit checks.audit.enabled: false at phoenix.yaml:4:11", "licenses checks.licenses.enabled: false at phoenix.yaml:5:14",
				"sbom checks.sbom.enabled: false at phoenix.yaml:6:10"}; !slices.Equal(off, want) {
				t.Errorf("disabled gates %q, want %q", off, want)
			}
			active, err := dsvc.Active(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == Succeeded {
				if g.Secrets.Status != Succeeded || g.Secrets.Counts["critical"] != 0 || len(active) != 1 {
					t.Errorf("clean build: gate %+v, %d active deployments", g.Secrets, len(active))
				}
				return
			}
			if g.Secrets.Status != Failed || g.Secrets.Counts["critical"] != 1 {
				t.Errorf("security report of the leaky release: %+v", g.Secrets)
			}
			if log := f.log(d.ID, "check-secrets"); !strings.Contains(log, "dist/env.js:1") {
				t.Errorf("the gate's log does not name dist/env.js:\n%s", log)
			}
			for _, s := range []string{"create-artifact", "deploy/staging"} {
				if st := stepOf(d, s).Status; st != Skipped {
					t.Errorf("%s: %s, want skipped", s, st)
				}
			}
			if len(active) != 0 {
				t.Errorf("deployed after a failed secrets gate: %+v", active)
			}
		})
	}
}

// secretGateFixture is a pipeline service with the real deployments
// domain and a healthy site.
func secretGateFixture(t *testing.T) (*fixture, *deploy.Service) {
	dir := t.TempDir()
	db, blobs, dsvc := deployService(t, dir)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<h1>ok</h1>"))
	}))
	t.Cleanup(site.Close)
	f := &fixture{t: t, dir: dir, db: db, audit: &auditLog{}}
	f.svc = f.start(func(o *Options) {
		o.Deps = action.Deps{Deployer: action.DeployService{Svc: dsvc, Blobs: blobs}, Blobs: blobs, Notifier: &notes{},
			EnvURL: func(p, e string) string { return site.URL + "/" }, HealthInterval: 5 * time.Millisecond}
	})
	return f, dsvc
}
