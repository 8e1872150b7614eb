package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// installYAML installs as npm ci does (the old folder deleted, then
// written anew, slowly) and has a suite that needs what it installed, all
// the time it runs. The build would break the suite by installing again.
const installYAML = `
project: {name: deps}
build:
  package_manager: npm
  install: rm -rf deps && sleep 0.3 && mkdir deps && echo react > deps/react && echo x >> installs.log
  command: mkdir -p dist && echo "<h1>deps $PHOENIX_RELEASE</h1>" > dist/index.html
  output: dist
tests:
  unit:
    command: for i in 1 2 3 4 5; do test -f deps/react || { echo "react missing"; exit 1; }; sleep 0.1; done
environments:
  staging: {}
`

// TestSuitesStartAfterTheInstall: the default plan installs the
// dependencies once, in a step of its own, before the build and the test
// suites; the build does not install again, so a suite that needs an
// installed package finds it for as long as it runs. Side by side with the
// build's own install, the suite found it missing, or half written.
func TestSuitesStartAfterTheInstall(t *testing.T) {
	sd := startSeed(t, t.TempDir(), "http://127.0.0.1:1")
	proj := sd.f.project(installYAML)
	os.WriteFile(filepath.Join(proj, "package.json"), []byte(`{"name":"deps","version":"1.0.0","license":"MIT","scripts":{"build":"echo"}}`), 0o644)
	os.WriteFile(filepath.Join(proj, "package-lock.json"), []byte(`{"name":"deps","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"deps","version":"1.0.0","license":"MIT"}}}`), 0o644)

	d := sd.f.wait(sd.f.release(proj, "v1.0.0").ID)
	install, build, unit := stepOf(d, "install"), stepOf(d, "build"), stepOf(d, "test-unit")
	if unit.Status != Succeeded || install.Status != Succeeded || build.Status != Succeeded {
		t.Fatalf("install %s, build %s (%s), test-unit %s (%s); log:\n%s", install.Status, build.Status, build.Error,
			unit.Status, unit.Error, sd.f.log(d.ID, ""))
	}
	for _, st := range []Step{build, unit} {
		if st.Started.Before(install.Finished) {
			t.Errorf("%s started at %v, before the install finished at %v", st.ID, st.Started, install.Finished)
		}
	}
	if n, _ := os.ReadFile(filepath.Join(proj, "installs.log")); string(n) != "x\n" {
		t.Errorf("installed %d times, want once", strings.Count(string(n), "x"))
	}
	if log := sd.f.log(d.ID, "build"); !strings.Contains(log, "installed by the install step before this one, not installed again") {
		t.Errorf("build log does not say it did not install:\n%s", log)
	}
}
