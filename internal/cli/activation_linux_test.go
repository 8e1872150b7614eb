package cli

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

const serverChildEnv = "PHOENIX_CLI_SERVER_CHILD"

// TestServerChild runs `phoenix ARGS` (ARGS from the environment) for the
// socket activation tests; alone it skips.
func TestServerChild(t *testing.T) {
	if os.Getenv(serverChildEnv) == "" {
		t.Skip("a child of TestServerUnderSocketActivation")
	}
	os.Exit(Main(strings.Fields(os.Getenv(serverChildEnv)), os.Stdin, os.Stdout, os.Stderr))
}

// TestServerUnderSocketActivation: `phoenix server` started by systemd's
// socket activator serves the sockets it was given by name (api, edge) and
// not the addresses of its flags, answers the request that started it, and
// stops cleanly on SIGTERM.
func TestServerUnderSocketActivation(t *testing.T) {
	t.Parallel()
	args := "server --data " + t.TempDir() + " --listen 127.0.0.1:1 --edge-listen 127.0.0.1:2"
	a := testkit.SocketActivate(t, []string{"api", "edge"}, []string{serverChildEnv + "=" + args},
		os.Args[0], "-test.run=^TestServerChild$")
	api, edge := a.Addrs[0], a.Addrs[1]
	logs := make(chan string, 1)
	go func() { b, _ := io.ReadAll(a.Stderr); logs <- string(b) }()

	client := &http.Client{Timeout: 60 * time.Second}
	req := mustRequest(t, "http://"+edge+"/health")
	req.Host = "edge.phoenix.localhost"
	for _, rq := range []*http.Request{req, mustRequest(t, "http://"+api+"/api/v1/health")} {
		resp, err := client.Do(rq)
		if err != nil {
			t.Fatalf("%s: %v", rq.URL, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", rq.URL, resp.Status)
		}
	}
	if err := a.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	werr := a.Cmd.Wait()
	log := <-logs
	if werr != nil {
		t.Fatalf("phoenix server: %v\n%s%s", werr, a.Stdout, log)
	}
	for _, name := range []string{`"socket":"edge"`, `"socket":"api"`} {
		if !strings.Contains(log, "serving on the socket systemd passed") || !strings.Contains(log, name) {
			t.Errorf("the log does not say it served the passed socket %s:\n%s", name, log)
		}
	}
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestServeUnderSocketActivation: `phoenix serve DIR` takes the socket
// named edge instead of --addr.
func TestServeUnderSocketActivation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/index.html", []byte("from the passed socket"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := testkit.SocketActivate(t, []string{"edge"}, []string{serverChildEnv + "=serve " + dir + " --addr 127.0.0.1:1"},
		os.Args[0], "-test.run=^TestServerChild$")
	go io.Copy(io.Discard, a.Stderr)
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Get("http://" + a.Addrs[0] + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "from the passed socket" {
		t.Fatalf("%s: %q", resp.Status, b)
	}
	if err := a.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.Cmd.Wait(); err != nil {
		t.Fatalf("phoenix serve: %v\n%s", err, a.Stdout)
	}
}

// TestServeRefusesOtherSockets: a passed socket of another name is a usage
// error that names it, not a port nobody serves.
func TestServeRefusesOtherSockets(t *testing.T) {
	t.Parallel()
	a := testkit.SocketActivate(t, []string{"api"}, []string{serverChildEnv + "=serve " + t.TempDir()},
		os.Args[0], "-test.run=^TestServerChild$")
	errs := make(chan string, 1)
	go func() { b, _ := io.ReadAll(a.Stderr); errs <- string(b) }()
	if c, err := net.Dial("tcp", a.Addrs[0]); err == nil { // starts the child
		defer c.Close()
	}
	err := a.Cmd.Wait()
	msg := <-errs
	if code := a.Cmd.ProcessState.ExitCode(); err == nil || code != 2 ||
		!strings.Contains(msg, `systemd passed a socket named "api"; phoenix serve serves one named edge`) {
		t.Fatalf("exit %d (%v), stderr:\n%s", code, err, msg)
	}
}
