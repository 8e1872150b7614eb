package pipeline

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const dagYAML = `
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: prepare
      steps:
        - name: version
          run: echo "tag=$PHOENIX_VERSION" >> "$PHOENIX_OUTPUT"
    - name: build
      needs: [prepare]
      steps:
        - name: compile
          run: echo built > "$PHOENIX_FILES/app.txt"; echo "size=5" >> "$PHOENIX_OUTPUT"
    - name: test
      needs: [prepare]
      steps:
        - name: flaky
          retries: 2
          run: |
            n=$(cat "$PHOENIX_FILES/tries" 2>/dev/null || echo 0)
            echo $((n+1)) > "$PHOENIX_FILES/tries"
            [ "$n" -ge 1 ]
    - name: ship
      needs: [build, test]
      steps:
        - name: use
          run: test "$(cat "$PHOENIX_FILES/app.txt")" = built && echo "got ${{ steps.prepare/version.outputs.tag }} size ${{ steps.build/compile.outputs.size }}"
        - name: on-failure
          if: failure()
          run: echo rolling back
        - name: always
          if: always()
          run: echo done
`

func TestDAGOutputsFilesRetriesConditions(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(dagYAML)
	d := f.wait(f.release(dir, "v1.2.0").ID)
	if d.Status != Succeeded {
		t.Fatalf("run %s: %s", d.Status, d.Message)
	}
	tests := []struct{ step, status string }{
		{"prepare/version", Succeeded}, {"build/compile", Succeeded}, {"test/flaky", Succeeded},
		{"ship/use", Succeeded}, {"ship/on-failure", Skipped}, {"ship/always", Succeeded},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			if got := stepOf(d, tt.step); got.Status != tt.status {
				t.Errorf("status %s (%s), want %s", got.Status, got.Error, tt.status)
			}
		})
	}
	if a := stepOf(d, "test/flaky").Attempts; a != 2 {
		t.Errorf("flaky ran %d times, want 2", a)
	}
	if out := f.log(d.ID, "ship/use"); !strings.Contains(out, "got v1.2.0 size 5") {
		t.Errorf("outputs not passed: %q", out)
	}
	if !strings.Contains(f.log(d.ID, "test/flaky"), "retrying in") {
		t.Error("retry not logged")
	}
	if stepOf(d, "prepare/version").Outputs["tag"] != "v1.2.0" {
		t.Errorf("outputs not stored: %v", stepOf(d, "prepare/version").Outputs)
	}
	if !f.audit.has("pipeline.run.create") || !f.audit.has("pipeline.run.succeeded") {
		t.Error("run not audited")
	}
}

func TestFailureRunsFailureStepsAndSkipsTheRest(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: main
      steps:
        - {name: boom, run: "echo about to fail; exit 7"}
        - {name: after, run: echo never}
        - {name: rollback, run: echo rolled back, if: failure()}
        - {name: slow, run: sleep 5, timeout: 200ms, if: always()}
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	if d.Status != Failed || !strings.Contains(d.Message, "main/boom") {
		t.Fatalf("run %s: %s", d.Status, d.Message)
	}
	want := map[string]string{"main/boom": Failed, "main/after": Skipped, "main/rollback": Succeeded, "main/slow": Failed}
	for id, status := range want {
		if got := stepOf(d, id); got.Status != status {
			t.Errorf("%s: %s (%s), want %s", id, got.Status, got.Error, status)
		}
	}
	if s := stepOf(d, "main/boom"); s.ExitCode != 7 {
		t.Errorf("exit code %d", s.ExitCode)
	}
	if s := stepOf(d, "main/slow"); !strings.Contains(s.Error, "timed out") {
		t.Errorf("timeout not reported: %q", s.Error)
	}
}

func TestSecretsAreMaskedInLogsOutputsAndErrors(t *testing.T) {
	const secret = "pr0d-t0ken-Zx9!"
	t.Setenv("PHX_TEST_DEPLOY_TOKEN", secret)
	f := newFixture(t, nil)
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: main
      secrets: [DEPLOY_TOKEN]
      steps:
        - name: leak
          env: {ALSO: "secret:DEPLOY_TOKEN"}
          run: |
            echo "plain $DEPLOY_TOKEN"
            printf '%s' "$ALSO" | base64
            echo "fail with $DEPLOY_TOKEN" >&2
            exit 1
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	all := f.log(d.ID, "")
	b64 := base64.StdEncoding.EncodeToString([]byte(secret))
	if strings.Contains(all, secret) || strings.Contains(all, b64) || strings.Contains(d.Message, secret) {
		t.Fatalf("secret leaked:\n%s\n%s", all, d.Message)
	}
	if strings.Count(all, "***") < 3 {
		t.Errorf("masks missing:\n%s", all)
	}
	raw, _ := os.ReadFile(f.svc.logPath(d.ID, "main/leak"))
	if strings.Contains(string(raw), secret) {
		t.Error("secret stored on disk")
	}
}

func TestHugeStepOutputIsCapped(t *testing.T) {
	if testing.Short() {
		t.Skip("prints 1 GiB")
	}
	f := newFixture(t, func(o *Options) { o.LogCap = 1 << 20 })
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: main
      steps:
        - {name: flood, run: head -c 1073741824 /dev/zero | tr '\0' 'x'}
`)
	d := f.wait(f.release(dir, "1.0.0").ID)
	if d.Status != Succeeded {
		t.Fatalf("%s: %s", d.Status, d.Message)
	}
	fi, err := os.Stat(f.svc.logPath(d.ID, "main/flood"))
	if err != nil || fi.Size() > 1<<20+512 {
		t.Fatalf("stored log: %v, %d bytes", err, fi.Size())
	}
}

func TestCancelKillsTheRunningStep(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: main
      steps:
        - {name: long, run: "echo started; sleep 300"}
        - {name: cleanup, run: echo cleaning, if: always()}
`)
	r := f.release(dir, "1.0.0")
	waitLog(t, f, r.ID, "main/long", "started")
	if err := f.svc.Cancel(context.Background(), r.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Cancelled || stepOf(d, "main/long").Status != Cancelled || stepOf(d, "main/cleanup").Status != Succeeded {
		t.Fatalf("run %s, steps %+v", d.Status, d.Steps)
	}
	if !f.audit.has("pipeline.run.cancel") {
		t.Error("cancel not audited")
	}
}

// waitLog follows a step's log until it contains want.
func waitLog(t *testing.T, f *fixture, id int64, step, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(f.log(id, step), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log of %s never showed %q", step, want)
		}
		select {
		case <-f.svc.hub.wait(id):
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestFollowStreamsLinesPrefixedByStep(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: a
      steps: [{name: one, run: "echo first; echo second"}]
    - name: b
      steps: [{name: two, run: printf 'no newline'}]
`)
	r := f.release(dir, "1.0.0")
	var out stringsBuilder
	if err := f.svc.Logs(context.Background(), r.ID, LogOptions{Follow: true}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a/one | first\n", "a/one | second\n", "b/two | no newline\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}

func TestValidationListsEveryProblemBeforeRunning(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(`
project: {name: shop}
environments: {production: {}}
pipeline:
  stages:
    - name: main
      steps:
        - {name: a, uses: deploi}
        - {name: b, uses: made-up}
`)
	_, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: dir, Version: "1.0.0"})
	if err == nil || !strings.Contains(err.Error(), `"deploi"`) || !strings.Contains(err.Error(), `"made-up"`) {
		t.Fatalf("err %v", err)
	}
	if _, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: dir, Version: "one"}); err == nil {
		t.Error("bad version accepted")
	}
	runs, _ := f.svc.Runs(context.Background(), RunFilter{})
	if len(runs) != 0 {
		t.Errorf("%d runs created", len(runs))
	}
	_ = filepath.Join
}
