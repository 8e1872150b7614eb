package testkit

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"testing"
)

// Activated is a process started by systemd's socket activator.
type Activated struct {
	Cmd    *exec.Cmd
	Addrs  []string         // the loopback addresses it listens on, one per name
	Stdout *strings.Builder // the child's standard output
	Stderr *bufio.Reader    // the rest of the standard error (the child's)
}

// SocketActivate runs argv under systemd-socket-activate, which listens on
// one free loopback address per name (LISTEN_FDNAMES) and starts argv, with
// env added (NAME=VALUE), at the first connection. It returns once the
// sockets listen; a port taken meanwhile is retried. Without the tool the
// test skips, or fails when PHOENIX_REQUIRE_TOOLS=1 (CI installs systemd).
func SocketActivate(t testing.TB, names []string, env []string, argv ...string) *Activated {
	t.Helper()
	tool := RequireTool(t, "systemd-socket-activate", "systemd")
	for attempt := 0; ; attempt++ {
		a := &Activated{Stdout: &strings.Builder{}}
		args := []string{"--fdname=" + strings.Join(names, ":")}
		for range names {
			a.Addrs = append(a.Addrs, freeLoopback(t))
			args = append(args, "-l", a.Addrs[len(a.Addrs)-1])
		}
		for _, e := range env {
			args = append(args, "-E", e)
		}
		a.Cmd = exec.Command(tool, append(args, argv...)...)
		a.Cmd.Stdout = a.Stdout
		stderr, err := a.Cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Cmd.Start(); err != nil {
			t.Fatal(err)
		}
		a.Stderr = bufio.NewReader(stderr)
		ok := true
		for range names { // "Listening on ADDR as N." per socket, or why not
			if line, _ := a.Stderr.ReadString('\n'); !strings.HasPrefix(line, "Listening on ") {
				ok = false
				if attempt == 3 {
					t.Fatalf("systemd-socket-activate: %s", line)
				}
				break
			}
		}
		if ok {
			t.Cleanup(func() { _ = a.Cmd.Process.Kill() })
			return a
		}
		_ = a.Cmd.Process.Kill()
		_ = a.Cmd.Wait()
	}
}

// freeLoopback is a loopback address whose port was free a moment ago.
func freeLoopback(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
