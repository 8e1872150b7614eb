// Package testkit holds helpers that several packages' tests share: a raw
// HTTP/1.1 exchange over TCP, JSON Schema loading, an S3 API server, a
// throwaway PostgreSQL server, a process under systemd's socket activator
// and a program a test needs, found or the test skipped (RequireTool).
// Only _test.go files import it.
package testkit

import (
	"bytes"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var dateLine = regexp.MustCompile(`(?m)^Date: [^\r]*\r$`)

// RawExchange writes raw to the TCP address addr, half-closes the
// connection and returns everything the server sent until it closed, with
// the value of every Date header replaced by "-" so answers compare
// byte for byte. A connection reset ends the read like a close; any other
// error fails t. The exchange gives up after 10 s.
func RawExchange(t testing.TB, addr, raw string) string {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	var b bytes.Buffer
	if _, err := io.Copy(&b, c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read from %s: %v", addr, err)
	}
	return dateLine.ReplaceAllString(b.String(), "Date: -\r")
}

// ExpectClosedUnanswered dials the TCP address addr, sends a GET and
// fails t unless the server closes the connection without sending a byte
// (a close or a reset; the write may fail too) within 10 s.
func ExpectClosedUnanswered(t testing.TB, addr string) {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("%s: the connection was left open", addr)
	}
	if len(b) > 0 {
		t.Fatalf("%s: the connection was answered: %q", addr, b)
	}
}

// dial connects to the TCP address addr with a 10 s deadline for the
// whole exchange.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// SchemaCompiler returns a JSON Schema compiler holding the schema file at
// path as the resource id; compile id, or id#/definitions/NAME, from it.
func SchemaCompiler(t testing.TB, path, id string) *jsonschema.Compiler {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}
