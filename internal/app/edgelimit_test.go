package app

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestEdgeMaxConnsPerIP: `phoenix server --edge-max-conns-per-ip` reaches
// the edge's listener: a client at the cap has its next connection closed
// unanswered, and the API's listener is not capped.
func TestEdgeMaxConnsPerIP(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), EdgeMaxConnsPerIP: 1})
	c, err := net.Dial("tcp", a.EdgeAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /health HTTP/1.1\r\nHost: edge.phoenix.localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("edge /health: %s", resp.Status)
	}
	testkit.ExpectClosedUnanswered(t, a.EdgeAddr().String())
	api, err := http.Get(a.APIURL() + "/api/v1/health") // the same client, at the edge's cap: the API is not capped
	if err != nil {
		t.Fatal(err)
	}
	api.Body.Close()
}
