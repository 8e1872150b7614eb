package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnectionMetrics: /metrics reports each listener's open and
// accepted connections, the lean loop's handovers to net/http, and stops
// listing a listener once its Server has stopped.
func TestConnectionMetrics(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{}) // serves plain HTTP on e.URL
	h := e.h
	cert, key, pool := selfSigned(t)
	secureCtx, stopSecure := context.WithCancel(context.Background())
	secureLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	secureDone := make(chan error, 1)
	go func() {
		secureDone <- (&Server{Handler: h, TLSCertFile: cert, TLSKeyFile: key}).Serve(secureCtx, secureLn)
	}()
	secureStopped := false
	defer func() {
		if !secureStopped {
			stopSecure()
			<-secureDone
		}
	}()

	addr := strings.TrimPrefix(e.URL, "http://")
	var idle []net.Conn
	for range 3 { // keep-alive connections, answered once and left open
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		exchangeKeep(t, c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		idle = append(idle, c)
	}
	post, err := net.Dial("tcp", addr) // a body: the loop hands the connection to net/http
	if err != nil {
		t.Fatal(err)
	}
	defer post.Close()
	exchangeKeep(t, post, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + secureLn.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	m := e.get(t, "/metrics", map[string]string{"Host": DefaultAdminHost}).body // on a fifth plain connection, open while it is answered
	plainLabel := `{listener="` + addr + `",tls="false"}`
	secureLabel := `{listener="` + secureLn.Addr().String() + `",tls="true"}`
	for _, want := range []string{
		"phoenix_edge_connections_open" + plainLabel + " 5",
		"phoenix_edge_connections_accepted_total" + plainLabel + " 5",
		"phoenix_edge_connections_handed_off_total" + plainLabel + " 2", // the POST, and this request: net/http answers the admin host
		"phoenix_edge_connections_open" + secureLabel + " 1",
		"phoenix_edge_connections_accepted_total" + secureLabel + " 1",
		"# TYPE phoenix_edge_connections_open gauge",
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, grepLines(m, "connections"))
		}
	}

	for _, c := range append(idle, post) {
		c.Close()
	}
	tr.CloseIdleConnections()
	waitUntil(t, "every connection counted closed", func() bool {
		for _, cs := range h.ConnStats() {
			if cs.Open != 0 {
				return false
			}
		}
		return true
	})
	stopSecure()
	secureStopped = true
	if err := <-secureDone; err != nil {
		t.Fatal(err)
	}
	if got := h.ConnStats(); len(got) != 1 || got[0].Listener != addr || got[0].Accepted != 5 {
		t.Fatalf("after the HTTPS server stopped: %+v, want the plain listener only, 5 accepted", got)
	}
}

// exchangeKeep sends raw on c and reads one answer, leaving c open.
func exchangeKeep(t *testing.T, c net.Conn, raw string) {
	t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// waitUntil polls cond until it holds, failing after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
