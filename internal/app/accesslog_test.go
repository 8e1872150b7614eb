package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestEdgeAccessLog: with EdgeAccessLog the server's edge writes a line
// per answered request, all of them on disk once Stop returns.
func TestEdgeAccessLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "access.log")
	a := startOpts(t, Options{DataDir: t.TempDir(), EdgeAccessLog: AccessLogOptions{Path: path}})
	deployPage(t, a, "production", "<h1>hi</h1>")
	req, err := http.NewRequest(http.MethodGet, "http://"+a.EdgeAddr().String()+"/?token=s3cr3t", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "production.shop.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "<h1>hi</h1>" {
		t.Fatalf("edge: %d %q", resp.StatusCode, body)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "s3cr3t") {
		t.Fatalf("the query reached the access log:\n%s", data)
	}
	found := false
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		var ln struct {
			Env, Host, Path string
			Status          int
			Query           bool
		}
		if err := json.Unmarshal(sc.Bytes(), &ln); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if ln.Host == "production.shop.localhost" && ln.Path == "/" && ln.Status == 200 && ln.Query && ln.Env != "" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no line for the request:\n%s", data)
	}
}

// TestEdgeAccessLogBadPath: a file in a missing directory stops the start
// with a usage error naming the flag.
func TestEdgeAccessLogBadPath(t *testing.T) {
	t.Parallel()
	a, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0",
		EdgeAccessLog: AccessLogOptions{Path: filepath.Join(t.TempDir(), "missing", "access.log")}})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start(context.Background())
	defer a.Stop(context.Background())
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "--edge-access-log") {
		t.Fatalf("err = %v, want a usage error naming --edge-access-log", err)
	}
}
