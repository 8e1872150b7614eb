package h1

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// emfileChildEnv makes the test binary run TestLoopEMFILEServer as a
// server with few file descriptors, for TestLoopOutOfFileDescriptors.
const emfileChildEnv = "PHOENIX_H1_EMFILE_CHILD"

// TestLoopEMFILEServer is the child process of
// TestLoopOutOfFileDescriptors: one event loop in a process allowed 48
// open files, its address on stdout, serving until stdin closes. Accept
// errors go to stderr.
func TestLoopEMFILEServer(t *testing.T) {
	if os.Getenv(emfileChildEnv) == "" {
		t.Skip("the child process of TestLoopOutOfFileDescriptors")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := syscall.Rlimit{Cur: 48, Max: 48}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok "+r.URL.Path) })
	fb := &http.Server{Handler: h, ErrorLog: log.New(os.Stderr, "", 0)}
	s := &Server{Handler: h, Fallback: fb, Loops: 1}
	go func() { _ = s.Serve(ln) }()
	fmt.Println(ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = s.Close()
}

// TestLoopOutOfFileDescriptors: when accept fails for want of file
// descriptors the loop stops watching the listener for a while instead of
// spinning on it, keeps serving the connections it has, and accepts the
// waiting ones once descriptors are free again. The server is a child
// process, so its small descriptor limit does not touch the tests.
func TestLoopOutOfFileDescriptors(t *testing.T) {
	if os.Getenv(emfileChildEnv) != "" {
		t.Skip("in the child")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoopEMFILEServer$")
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1")
	stderr := &testkit.LogBuffer{} // written by exec's goroutine, read here
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	addr = strings.TrimSpace(addr)
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	// More connections than the child may hold: the first ones are
	// served, the others wait in the listen backlog.
	conns := dialAsking(t, addr, 80, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
	served, waiting := answered(t, conns, time.Second)
	if len(served) == 0 || len(waiting) == 0 {
		t.Fatalf("%d served, %d waiting: want the descriptor limit to leave some waiting", len(served), len(waiting))
	}
	waitFor(t, "the child to log an accept error", func() bool { return strings.Contains(stderr.String(), "Accept error") })
	if cpu := cpuOver(t, cmd.Process.Pid, 300*time.Millisecond); cpu > 0.3 {
		t.Errorf("the child used %.0f%% of a core while out of descriptors: it spins on the listener", cpu*100)
	}
	if got := roundTripKeep(t, served[0], "/again"); got != "ok /again" { // what it holds is still served
		t.Fatalf("a served connection asked again: %q", got)
	}
	for _, c := range served[1:] { // free descriptors: the waiting connections get in,
		c.Close()
	}
	for i, c := range waiting { // and each one answered frees its descriptor for the next
		if _, not := answered(t, []net.Conn{c}, 10*time.Second); len(not) > 0 {
			t.Fatalf("waiting connection %d of %d not answered after descriptors were freed", i+1, len(waiting))
		}
		c.Close()
	}
}

// answered reads one answer from each connection within d: those that got
// one, and those that did not.
func answered(t *testing.T, conns []net.Conn, d time.Duration) (got, not []net.Conn) {
	t.Helper()
	deadline := time.Now().Add(d)
	for _, c := range conns {
		_ = c.SetReadDeadline(deadline)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		_ = c.SetReadDeadline(time.Time{})
		if err != nil {
			not = append(not, c)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok /x" {
			t.Fatalf("answer %q", b)
		}
		got = append(got, c)
	}
	return got, not
}

// cpuOver is the share of one core process pid used over d.
func cpuOver(t *testing.T, pid int, d time.Duration) float64 {
	t.Helper()
	ticks := func() int {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		u, _ := strconv.Atoi(f[11]) // utime, stime: fields 14 and 15
		s, _ := strconv.Atoi(f[12])
		return u + s
	}
	t0, w0 := ticks(), time.Now()
	time.Sleep(d) // the window the CPU time is measured over
	return float64(ticks()-t0) / 100 / time.Since(w0).Seconds()
}
