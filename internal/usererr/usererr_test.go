package usererr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestMapping(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		exit   int
		status int
	}{
		{"nil", nil, 0, http.StatusInternalServerError},
		{"plain", errors.New("boom"), 1, 500},
		{"usage", New(Usage, "bad flag"), 2, 400},
		{"wrapped usage", fmt.Errorf("ctx: %w", New(Usage, "bad")), 2, 400},
		{"invalid", New(Invalid, "bad name"), 2, 400},
		{"failed", New(Failed, "gate failed"), 1, 422},
		{"not found", New(NotFound, "no such env"), 1, 404},
		{"conflict", New(Conflict, "locked"), 1, 409},
		{"unauthorized", New(Unauthorized, "no"), 1, 401},
		{"forbidden", New(Forbidden, "no"), 1, 403},
		{"unavailable", New(Unavailable, "sealed"), 1, 503},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ExitCode(c.err); got != c.exit {
				t.Errorf("ExitCode = %d, want %d", got, c.exit)
			}
			if c.err != nil {
				if got := HTTPStatus(c.err); got != c.status {
					t.Errorf("HTTPStatus = %d, want %d", got, c.status)
				}
				if k := KindFromHTTP(HTTPStatus(c.err)); k != KindOf(c.err) && KindOf(c.err) != Usage && KindOf(c.err) != Failed {
					t.Errorf("KindFromHTTP round trip: %v != %v", k, KindOf(c.err))
				}
				if k := KindFromAPI(HTTPStatus(c.err), KindOf(c.err).Code()); k != KindOf(c.err) {
					t.Errorf("KindFromAPI round trip: %v != %v", k, KindOf(c.err))
				}
				if k := KindFromAPI(HTTPStatus(c.err), "usage"); KindOf(c.err) != Invalid && KindOf(c.err) != Usage && k == Usage {
					t.Errorf("KindFromAPI took code usage for status %d", HTTPStatus(c.err))
				}
			}
		})
	}
}

func TestHintAndMessageKeepInternalDetailOut(t *testing.T) {
	cause := errors.New("open /secret/path: permission denied")
	err := fmt.Errorf("deploy: %w", Wrap(Unavailable, cause, "storage is unavailable").WithHint("check %s", "the data dir"))
	if HintOf(err) != "check the data dir" {
		t.Fatalf("hint = %q", HintOf(err))
	}
	var ue *Error
	if !errors.As(err, &ue) || ue.Error() != "storage is unavailable" {
		t.Fatalf("message = %q", ue.Error())
	}
	if !errors.Is(err, cause) {
		t.Fatal("cause lost")
	}
	if HintOf(errors.New("x")) != "" {
		t.Fatal("hint from plain error")
	}
}
