package monitor

import (
	"net/http"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// FuzzConditions evaluates conditions against arbitrary response bodies,
// headers and condition values (all outside input): no panics, and a
// condition and its negation never both hold.
func FuzzConditions(f *testing.F) {
	f.Add(`{"status":"UP","items":[1,2]}`, "status", "==", "UP", "")
	f.Add(`{"a":{"b":[{"c":1}]}}`, "a.b[0].c", ">=", "1", "")
	f.Add(`<html>Phoenix VC</html>`, "", "==", "pat(*Phoenix*)", "")
	f.Add(`x`, "", "==", "regex((a+)+$", "")
	f.Add(`[1,2,3]`, "[5]", "==", "any(1, 2)", "len")
	f.Add(`{"k":null}`, "k", "!=", "null", "has")
	f.Fuzz(func(t *testing.T, body, path, op, value, fn string) {
		if op != "==" && op != "!=" && op != "<" && op != ">" && op != "<=" && op != ">=" {
			return
		}
		if fn != "" && fn != "len" && fn != "has" {
			return
		}
		o := &observed{status: 200, elapsed: time.Millisecond, body: []byte(body), header: http.Header{"X": {body}}, connected: true}
		for _, typ := range []string{"body", "header", "status", "response_time", "certificate_expiration", "ip", "connected"} {
			c := config.Condition{Type: typ, Operator: op, Value: value, Path: path, Func: fn}
			if typ == "header" {
				c.Path = "X"
			}
			_, ok := check(c, o)
			if op == "==" {
				c.Operator = "!="
				if _, neg := check(c, o); ok && neg {
					t.Fatalf("%s: %q and its negation both hold", typ, c.String())
				}
			}
		}
	})
}
