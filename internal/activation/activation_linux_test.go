package activation

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

const childEnv = "PHOENIX_ACTIVATION_CHILD"

// TestActivationChild is the process the other tests start (under
// systemd-socket-activate, or with descriptors of their own); alone it
// skips. It takes the passed sockets and serves one connection on "edge".
func TestActivationChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("a child of TestListenersFromSystemd and TestListenersRefuse")
	}
	if mode == "own-pid" { // the descriptors came from the test, not systemd: be the process they are meant for
		os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	}
	m, err := Listeners()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		if os.Getenv(v) != "" {
			fmt.Println("error: left in the environment:", v)
		}
	}
	ln := m["edge"]
	if ln == nil {
		fmt.Println("error: no socket named edge")
		return
	}
	c, err := ln.Accept()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Fprintf(c, "served by %d on %s", os.Getpid(), ln.Addr())
	c.Close()
}

// TestListenersFromSystemd: systemd's own socket activator listens, and
// the child takes the socket by its name and answers the connection that
// waited in the socket's backlog while it started.
func TestListenersFromSystemd(t *testing.T) {
	a := testkit.SocketActivate(t, []string{"edge"}, []string{childEnv + "=systemd"},
		os.Args[0], "-test.run=^TestActivationChild$", "-test.v")
	go io.Copy(io.Discard, a.Stderr)
	addr := a.Addrs[0]
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	b, _ := io.ReadAll(c)
	c.Close()
	if err := a.Cmd.Wait(); err != nil {
		t.Errorf("child: %v\n%s", err, a.Stdout)
	}
	if !strings.HasPrefix(string(b), "served by ") || !strings.HasSuffix(string(b), " on "+addr) {
		t.Fatalf("answer %q, child said:\n%s", b, a.Stdout)
	}
	if strings.Contains(a.Stdout.String(), "error:") {
		t.Fatalf("child:\n%s", a.Stdout)
	}
}

// TestListenersRefuse: a passed descriptor that is not a listening socket,
// or two sockets of one name, are errors that name the descriptor.
func TestListenersRefuse(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	ln1, ln2 := listenFile(t), listenFile(t)
	srv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	connFile, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer connFile.Close()
	for _, tc := range []struct {
		name  string
		files []*os.File
		names string
		want  string
	}{
		{"a pipe", []*os.File{pr}, "edge", "descriptor 3 (edge): "},
		{"a connected socket", []*os.File{connFile}, "edge", "descriptor 3 (edge): not a listening socket"},
		{"one name twice", []*os.File{ln1, ln2}, "edge:edge", "descriptor 4 (edge): a second socket of that name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestActivationChild$", "-test.v")
			cmd.ExtraFiles = tc.files
			cmd.Env = append(slices.Clone(os.Environ()), childEnv+"=own-pid",
				"LISTEN_FDS="+strconv.Itoa(len(tc.files)), "LISTEN_FDNAMES="+tc.names)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "error: systemd socket activation: "+tc.want) {
				t.Fatalf("child said:\n%s\nwant an error with %q", out, tc.want)
			}
		})
	}
}

// listenFile is a listening socket's descriptor as a file.
func listenFile(t *testing.T) *os.File {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
