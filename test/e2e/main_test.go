package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
// server the test starts next. It is taken below the kernel's ephemeral
// range when there is room there: a port from ":0" would be free only
// until another test (of any package running meanwhile) binds ":0" and
// gets it, and the server would then fail with "address already in use".
// Ports handed out once are not handed out again by this process.
func freePort(t *testing.T) string {
	t.Helper()
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if lo, hi := belowEphemeral(); hi > lo {
		for range 200 {
			port := lo + rand.IntN(hi-lo)
			if ports.given[port] {
				continue
			}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			if ln, err := net.Listen("tcp", addr); err == nil {
				ln.Close()
				ports.given[port] = true
				return addr
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var ports = struct {
	mu    sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

// belowEphemeral is a port range under the kernel's ephemeral ports
// (net.ipv4.ip_local_port_range), or an empty one when it cannot be read
// or leaves no room.
func belowEphemeral() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0
	}
	first, err := strconv.Atoi(f[0])
	if err != nil || first < 12000 {
		return 0, 0
	}
	return 10000, first - 1
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
