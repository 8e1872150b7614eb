package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// shopYAML is a phoenix.yaml of shop: a probe of production (probe, every
// second), production's health check (check) and a webhook channel
// (hook).
func shopYAML(probe, check, hook string) string {
	return "project: {name: shop}\nenvironments:\n  production:\n    health_checks: [{name: ready, url: " + check + "}]\n" +
		"monitor:\n  endpoints: [{name: home, environment: production, url: \"" + probe + "\", interval: 1s, timeout: 1s}]\n" +
		"notifications:\n  channels:\n    hook: {type: webhook, url: \"" + hook + "\"}\n"
}

// watcher is an HTTP server on 127.0.0.1 that passes on the probes
// (GET /probe) and the channel's messages (POST /hook) it gets.
type watcher struct {
	url    string
	probes chan string
	msgs   chan notify.Message
}

func newWatcher(t *testing.T) *watcher {
	w := &watcher{probes: make(chan string, 64), msgs: make(chan notify.Message, 64)}
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/probe":
			select {
			case w.probes <- r.URL.Path:
			default: // enough seen
			}
		case "/hook":
			var m notify.Message
			if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
				t.Error(err)
			}
			w.msgs <- m
		}
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// event waits for the channel's message of event and returns it.
func (w *watcher) event(t *testing.T, event string) notify.Message {
	t.Helper()
	for {
		if m := recv(t, w.msgs, event); m.Event == event {
			return m
		}
	}
}

// probed waits for a probe that began after the call.
func (w *watcher) probed(t *testing.T) {
	t.Helper()
	for len(w.probes) > 0 {
		<-w.probes
	}
	recv(t, w.probes, "a probe of production")
}

// handOver hands a the phoenix.yaml of shop through the API, as
// 'phoenix deploy' does.
func handOver(t *testing.T, a *App, yaml string) *projectcfg.Summary {
	t.Helper()
	tok, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := client.New(a.APIURL(), tok).PutConfig(context.Background(), "shop", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inEffect returns where shop's phoenix.yaml in effect on a came from and
// its probes.
func inEffect(t *testing.T, a *App) (from string, probes []string) {
	t.Helper()
	s, ok := a.configSummary(context.Background(), "shop", nil)
	if !ok {
		t.Fatal("no phoenix.yaml of shop in effect")
	}
	return s.From, s.Probes
}

// TestDeployedConfigIsInEffect: the phoenix.yaml 'phoenix deploy' hands
// over for a project never released is in effect as a release's would
// be: its channel hears of the deployment, its probe runs, its health
// check (not GET /) verifies the deployments, rolling back one that
// fails it; a restart reads it back from the database.
func TestDeployedConfigIsInEffect(t *testing.T) {
	t.Parallel()
	w := newWatcher(t)
	dir := t.TempDir()
	a := startOpts(t, Options{DataDir: dir, VerifySoak: 200 * time.Millisecond, Proc: "-"})
	s := handOver(t, a, shopYAML(w.url+"/probe", "/ready.html", w.url+"/hook"))
	if !s.Changed || s.Kind != projectcfg.Deploy || s.From != "phoenix deploy by admin" || !slices.Equal(s.Probes, []string{"home"}) ||
		!slices.Equal(s.HealthChecks["production"], []string{"ready"}) || !slices.Equal(s.Channels, []string{"hook"}) {
		t.Fatalf("hand-over: %+v", s)
	}
	v1 := deploySite(t, a, "production", "v1", "", map[string]string{"index.html": "<h1>one</h1>", "ready.html": "ok"})
	if m := w.event(t, "deploy.succeeded"); m.Project != "shop" {
		t.Fatalf("the channel got %+v", m)
	}
	w.probed(t)
	deploySite(t, a, "production", "v2", "", map[string]string{"index.html": "<h1>two</h1>"}) // GET / answers, ready.html not
	w.event(t, "deploy.rolled_back")
	a.projects.wait()
	if got := activeID(t, a, "production"); got != v1 {
		t.Fatalf("a deployment failing its health check was kept: active %d, want %d", got, v1)
	}

	a.Stop(context.Background())
	b := startOpts(t, Options{DataDir: dir, VerifySoak: 200 * time.Millisecond, Proc: "-"})
	if from, probes := inEffect(t, b); from != "phoenix deploy by admin" || !slices.Equal(probes, []string{"home"}) {
		t.Fatalf("after a restart: from %q, probes %v", from, probes)
	}
	w.probed(t)
	deploySite(t, b, "production", "v3", "", map[string]string{"index.html": "<h1>three</h1>"})
	w.event(t, "deploy.rolled_back")
}

// releaseShop releases shop from a folder holding yaml (its pipeline
// only echoes) and waits for the run to end.
func releaseShop(t *testing.T, a *App, yaml, version string) *pipeline.Run {
	t.Helper()
	dir := t.TempDir()
	yaml += "pipeline:\n  stages:\n    - name: build\n      steps:\n        - {name: compile, run: echo built}\n"
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := a.Pipeline.Release(context.Background(), pipeline.ReleaseRequest{Dir: dir, Version: version, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Pipeline.Logs(context.Background(), run.ID, pipeline.LogOptions{Follow: true}, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestNewestConfigWins: a release's phoenix.yaml replaces the one
// 'phoenix deploy' handed over, and the next hand-over replaces the
// release's, each in effect at once and after a restart, saying where it
// came from; the same file again changes nothing.
func TestNewestConfigWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := startOpts(t, Options{DataDir: dir, Proc: "-"})
	deployed := shopYAML("/", "/", "http://127.0.0.1:9/hook")
	handOver(t, a, deployed)
	released := strings.Replace(deployed, "name: home", "name: api", 1)
	run := releaseShop(t, a, released, "v1.2.0")
	want := fmt.Sprintf("release v1.2.0 (run %d) by alice", run.ID)
	if from, probes := inEffect(t, a); from != want || !slices.Equal(probes, []string{"api"}) {
		t.Fatalf("after the release: from %q, probes %v; want %q, [api]", from, probes, want)
	}
	a.Stop(context.Background())
	a = startOpts(t, Options{DataDir: dir, Proc: "-"})
	if from, probes := inEffect(t, a); from != want || !slices.Equal(probes, []string{"api"}) {
		t.Fatalf("the release's after a restart: from %q, probes %v", from, probes)
	}
	if s := handOver(t, a, deployed); !s.Changed || s.From != "phoenix deploy by admin" {
		t.Fatalf("hand-over after the release: %+v", s)
	}
	if s := handOver(t, a, deployed); s.Changed || s.Revision != 3 {
		t.Fatalf("the same file again: %+v", s)
	}
	a.Stop(context.Background())
	a = startOpts(t, Options{DataDir: dir, Proc: "-"})
	if from, probes := inEffect(t, a); from != "phoenix deploy by admin" || !slices.Equal(probes, []string{"home"}) {
		t.Fatalf("the hand-over's after a restart: from %q, probes %v", from, probes)
	}
}

// TestReplicasSeeAHandedOverConfig: the phoenix.yaml handed to one
// replica is in effect on the other (the leader runs the monitor and the
// channels) without a restart, and the next one handed to the leader
// replaces it on the follower too. PostgreSQL.
func TestReplicasSeeAHandedOverConfig(t *testing.T) {
	t.Parallel()
	_, leader, follower := twoReplicas(t)
	yaml := shopYAML("/", "/", "http://127.0.0.1:9/hook")
	handOver(t, follower, yaml)
	eventually(t, "the leader uses the follower's", func() bool {
		s, ok := leader.configSummary(context.Background(), "shop", nil)
		return ok && s.From == "phoenix deploy by admin" && slices.Equal(s.Probes, []string{"home"})
	})
	handOver(t, leader, strings.Replace(yaml, "name: home", "name: api", 1))
	eventually(t, "the follower uses the leader's", func() bool {
		s, ok := follower.configSummary(context.Background(), "shop", nil)
		return ok && slices.Equal(s.Probes, []string{"api"})
	})
}

// TestAnOlderRevisionIsNotPutInEffect: of two hand-overs racing, the one
// stored first cannot replace the later one in effect; a release's file
// that could not be stored (revision unknown) is put in effect.
func TestAnOlderRevisionIsNotPutInEffect(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	yaml := shopYAML("/", "/", "http://127.0.0.1:9/hook")
	handOver(t, a, yaml)
	handOver(t, a, strings.Replace(yaml, "name: home", "name: api", 1))
	cfg, _ := a.readConfig(context.Background(), "shop", &projectcfg.Entry{YAML: []byte(yaml)})
	a.useConfig("shop", cfg, &projectcfg.Entry{Project: "shop", Kind: projectcfg.Deploy, Revision: 1})
	if _, probes := inEffect(t, a); !slices.Equal(probes, []string{"api"}) {
		t.Fatalf("revision 1 replaced revision 2: probes %v", probes)
	}
	a.useConfig("shop", cfg, nil)
	if from, probes := inEffect(t, a); !slices.Equal(probes, []string{"home"}) || from != projectcfg.LatestRun {
		t.Fatalf("a file not stored is not in effect: from %q, probes %v", from, probes)
	}
}

// TestAnUnreadableStoredConfigIsWarnedOnce: a stored phoenix.yaml the
// server cannot parse (written by a newer version, say) keeps the one in
// effect, and the poll that compares revisions warns about it once, not
// at every poll; a new revision is read again.
func TestAnUnreadableStoredConfigIsWarnedOnce(t *testing.T) {
	t.Parallel()
	var log testkit.LogBuffer
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-", Logger: slog.New(slog.NewTextHandler(&log, nil))})
	ctx := context.Background()
	yaml := shopYAML("/", "/", "http://127.0.0.1:9/hook")
	handOver(t, a, yaml)
	if _, _, err := a.Configs.Save(ctx, projectcfg.Entry{Project: "shop", Kind: projectcfg.Deploy, Actor: "newer", YAML: []byte("project: {name: shop, future: 1}\n")}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		a.syncConfigs(ctx)
	}
	if n := strings.Count(log.String(), "cannot read the project's phoenix.yaml"); n != 1 {
		t.Fatalf("warned %d times, want once:\n%s", n, log.String())
	}
	if _, probes := inEffect(t, a); !slices.Equal(probes, []string{"home"}) {
		t.Fatalf("probes %v: the file in effect was dropped", probes)
	}
	if _, _, err := a.Configs.Save(ctx, projectcfg.Entry{Project: "shop", Kind: projectcfg.Deploy, Actor: "ops",
		YAML: []byte(strings.Replace(yaml, "name: home", "name: api", 1))}); err != nil {
		t.Fatal(err)
	}
	a.syncConfigs(ctx)
	if _, probes := inEffect(t, a); !slices.Equal(probes, []string{"api"}) {
		t.Fatalf("probes %v after a readable revision", probes)
	}
}
