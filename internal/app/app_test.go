package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func start(t *testing.T, dir string) *App {
	t.Helper()
	return startOpts(t, Options{DataDir: dir})
}

// startOpts starts a server with o on loopback ports and stops it when
// the test ends.
func startOpts(t *testing.T, o Options) *App {
	t.Helper()
	o.Listen, o.EdgeListen = "127.0.0.1:0", "127.0.0.1:0"
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a
}

func TestStartServesHealthAndStopIsIdempotent(t *testing.T) {
	t.Parallel()
	a := start(t, t.TempDir())
	resp, err := http.Get(a.APIURL() + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Status string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 200 || body.Status != "ok" {
		t.Fatalf("health = %d %q", resp.StatusCode, body.Status)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal("second Stop:", err)
	}
	if _, err := http.Get(a.APIURL() + "/api/v1/health"); err == nil {
		t.Fatal("API still answers after Stop")
	}
}

func TestDataDirLockedAgainstSecondServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := start(t, dir)
	second, _ := New(Options{DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
	err := second.Start(context.Background())
	if usererr.KindOf(err) != usererr.Conflict || !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server on the same data dir: %v", err)
	}
	first.Stop(context.Background())
	third := start(t, dir) // released on Stop
	third.Stop(context.Background())
}

func TestBusyAddressIsAUsageError(t *testing.T) {
	t.Parallel()
	a := start(t, t.TempDir())
	b, _ := New(Options{DataDir: t.TempDir(), Listen: strings.TrimPrefix(a.APIURL(), "http://"), EdgeListen: "127.0.0.1:0"})
	err := b.Start(context.Background())
	if usererr.KindOf(err) != usererr.Usage {
		t.Fatalf("err = %v", err)
	}
}

// deployPage deploys a one-page release of project shop to env and
// returns the page's blob.
func deployPage(t *testing.T, a *App, env, body string) backend.Digest {
	t.Helper()
	if err := a.Deploy.EnsureEnvironment(context.Background(), "shop", deploy.EnvSpec{Name: env}); err != nil {
		t.Fatal(err)
	}
	up, d := beginPage(t, a, body)
	if err := a.Deploy.PutBlob(context.Background(), up, d, bytes.NewReader([]byte(body)), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	finalizePage(t, a, up, env)
	return d
}

// beginPage opens the upload of a one-page release of project shop and
// returns its id and the page's blob.
func beginPage(t *testing.T, a *App, body string) (string, backend.Digest) {
	t.Helper()
	canon, d := pageManifest(t, body)
	up, err := a.Deploy.BeginUpload(context.Background(), "shop", canon)
	if err != nil {
		t.Fatal(err)
	}
	return up.ID, d
}

// pageManifest is the canonical manifest of a one-page release (index.html
// holding body) and the page's blob.
func pageManifest(t *testing.T, body string) ([]byte, backend.Digest) {
	t.Helper()
	d := backend.Sum([]byte(body))
	m := &artifact.Manifest{Version: artifact.FormatVersion, Files: []artifact.File{{Path: "index.html", Digest: d,
		Size: int64(len(body)), Type: "text/html; charset=utf-8"}}}
	canon, err := m.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return canon, d
}

// finalizePage activates upload up in env.
func finalizePage(t *testing.T, a *App, up, env string) {
	t.Helper()
	if _, err := a.Deploy.Finalize(context.Background(), up, deploy.FinalizeOptions{Environment: env}); err != nil {
		t.Fatal(err)
	}
}
