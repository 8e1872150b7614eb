package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

func start(t *testing.T, dir string) *App {
	t.Helper()
	a, err := New(Options{DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
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
	dir := t.TempDir()
	first := start(t, dir)
	second, _ := New(Options{DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
	err := second.Start(context.Background())
	if err == nil || usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server on the same data dir: %v", err)
	}
	first.Stop(context.Background())
	third := start(t, dir) // released on Stop
	third.Stop(context.Background())
}

func TestBusyAddressIsAUsageError(t *testing.T) {
	a := start(t, t.TempDir())
	b, _ := New(Options{DataDir: t.TempDir(), Listen: strings.TrimPrefix(a.APIURL(), "http://"), EdgeListen: "127.0.0.1:0"})
	err := b.Start(context.Background())
	if usererr.KindOf(err) != usererr.Usage {
		t.Fatalf("err = %v", err)
	}
}
