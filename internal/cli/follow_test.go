package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// serverOn starts a server on data listening on listen; the caller stops it.
func serverOn(t *testing.T, data, listen string) *app.App {
	t.Helper()
	a, err := app.New(app.Options{DataDir: data, Listen: listen, EdgeListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

// stopServer stops a as a signal stops 'phoenix server': open streams
// (a follow) get a grace period, then are cut.
func stopServer(a *app.App) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a.Stop(ctx)
}

type result struct {
	code        int
	out, errOut string
}

// releaseWaiting starts 'phoenix release 1.0.0' of gatedProject's
// folder against a server on data, and returns the server and the
// command's result once it ends, after run 1 waits at its gate.
func releaseWaiting(t *testing.T) (*app.App, string, *testkit.LogBuffer, <-chan result) {
	t.Helper()
	data, dir := gatedProject(t)
	a := serverOn(t, data, "127.0.0.1:0")
	done := make(chan result, 1)
	stderr := &testkit.LogBuffer{}
	go func() {
		var out bytes.Buffer
		code := Main([]string{"release", "1.0.0", "--dir", dir, "--data", data}, strings.NewReader(""), &out, stderr)
		done <- result{code, out.String(), stderr.String()}
	}()
	waitFor(t, "run 1 waits for its approval", func() bool {
		d, err := a.Pipeline.Get(context.Background(), 1)
		return err == nil && d.Status == pipeline.Waiting
	})
	time.Sleep(200 * time.Millisecond) // let the follower reach the gate in the log: not a timing the test depends on
	return a, data, stderr, done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("never: %s", what)
		}
	}
}

func recvResult(t *testing.T, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("phoenix release did not end")
	}
	return result{}
}

// TestReleaseFollowsThroughAServerRestart: the server restarting while
// the run waits for its approval does not end 'phoenix release': it says
// it reconnects, follows the run on the new server without repeating the
// log, and exits 0 once the run, approved there, succeeds.
func TestReleaseFollowsThroughAServerRestart(t *testing.T) {
	a, data, stderr, done := releaseWaiting(t)
	listen := strings.TrimPrefix(a.APIURL(), "http://")
	stopServer(a)
	waitFor(t, "the follower notices", func() bool { return strings.Contains(stderr.String(), "server restarting, reconnecting...") })
	b := serverOn(t, data, listen) // a restart: the same address
	defer b.Stop(context.Background())
	ctx := context.Background()
	if _, err := b.Auth.CreateUser(ctx, "bob", "", []auth.Grant{{Role: auth.RoleApprover}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Pipeline.Approve(ctx, 1, "", "bob", ""); err != nil {
		t.Fatal(err)
	}
	r := recvResult(t, done)
	if r.code != 0 || !strings.Contains(r.errOut, "server restarting, reconnecting...") || !strings.Contains(r.out, "run 1 succeeded") {
		t.Fatalf("release through a restart: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	if n := strings.Count(r.out, "waiting for 1 approval"); n != 1 {
		t.Fatalf("the log before the restart was written %d times, want once:\n%s", n, r.out)
	}
}

// TestReleaseGivesUpOnAServerThatStaysDown: a server that does not come
// back ends the follow after reconnectFor, exit 1, saying how to follow
// the run again.
func TestReleaseGivesUpOnAServerThatStaysDown(t *testing.T) {
	defer func(d time.Duration) { reconnectFor = d }(reconnectFor)
	reconnectFor = time.Second
	a, _, _, done := releaseWaiting(t)
	stopServer(a)
	r := recvResult(t, done)
	if r.code != 1 || !strings.Contains(r.errOut, "server restarting, reconnecting...") ||
		!strings.Contains(r.errOut, "lost the server for 1s while following run 1") || !strings.Contains(r.errOut, "phoenix logs 1 -f") {
		t.Fatalf("release with the server gone: exit %d\nstderr %s", r.code, r.errOut)
	}
}
