package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "phoenix-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "phoenix")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/phoenix")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build phoenix:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary to completion with env added to the environment.
func run(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runStdin(t, dir, env, "", args...)
}

// runStdin is run with stdin.
func runStdin(t *testing.T, dir string, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// freePort returns a loopback address whose port is free now, for a
// server the test starts next (testkit.FreePort: below the ephemeral
// range, never handed out twice).
func freePort(t *testing.T) string {
	t.Helper()
	port, err := testkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// server is a running `phoenix server`.
type server struct {
	cmd       *exec.Cmd
	api, edge string
	data      string
	token     string
	logs      *testkit.LogBuffer // its stderr
}

func startServer(t *testing.T, data string) *server { return startServerWith(t, data, nil) }

// startServerWith starts a server with env added to its environment and
// extra arguments.
func startServerWith(t *testing.T, data string, env []string, args ...string) *server {
	t.Helper()
	s := &server{api: freePort(t), edge: freePort(t), data: data, logs: &testkit.LogBuffer{}}
	s.cmd = exec.Command(binary, append([]string{"server", "--data", data, "--listen", s.api, "--edge-listen", s.edge}, args...)...)
	s.cmd.Env = append(os.Environ(), env...)
	logs := s.logs
	s.cmd.Stderr = logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + s.api + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness, not timing a result
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	s.token = strings.TrimSpace(string(tok))
	return s
}

// get fetches path from the edge as host.
func (s *server) get(t *testing.T, host, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.edge+path, nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

type apiClient struct{ s *server }

func (s *server) client(t *testing.T) apiClient { return apiClient{s} }

// put sends an authenticated PUT with a JSON body and requires a 2xx.
func (c apiClient) put(t *testing.T, path, body string) {
	t.Helper()
	if code := c.putStatus(t, path, body); code/100 != 2 {
		t.Fatalf("PUT %s: %d", path, code)
	}
}

// putStatus sends an authenticated PUT with a JSON body and returns the
// status.
func (c apiClient) putStatus(t *testing.T, path, body string) int {
	t.Helper()
	req, _ := http.NewRequest("PUT", "http://"+c.s.api+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
