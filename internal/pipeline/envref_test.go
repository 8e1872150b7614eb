package pipeline

import (
	"os"
	"strings"
	"testing"
)

// A step's env:NAME reads the environment steps start from: the server's
// own credentials, which that environment leaves out (the app's childEnv),
// are refused by name, never handed over.
func TestEnvRefCannotReadWhatStepsDoNotInherit(t *testing.T) {
	const key = "backup-key-Qx81-never-passed"
	t.Setenv("PHX_TEST_SERVER_KEY", key)
	t.Setenv("PHX_TEST_PUBLIC", "visible-value")
	f := newFixture(t, func(o *Options) {
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PHX_TEST_SERVER_KEY=") {
				o.Env = append(o.Env, kv)
			}
		}
	})
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: main
      steps:
        - name: public
          env: {P: "env:PHX_TEST_PUBLIC"}
          run: test "$P" = visible-value
        - name: steal
          needs: [public]
          env: {K: "env:PHX_TEST_SERVER_KEY"}
          run: printf '%s' "$K" | rev
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	if s := stepOf(d, "main/public"); s.Status != Succeeded {
		t.Fatalf("env:NAME of an inherited variable: %s (%s)", s.Status, s.Error)
	}
	s := stepOf(d, "main/steal")
	if s.Status != Failed || !strings.Contains(s.Error, "PHX_TEST_SERVER_KEY is the server's own and is not passed to steps") {
		t.Fatalf("env:NAME of a variable steps do not inherit: %s (%s)", s.Status, s.Error)
	}
	if all := f.log(d.ID, ""); strings.Contains(all, "dessap-reven") {
		t.Fatalf("the server's credential reached the step:\n%s", all)
	}
}
