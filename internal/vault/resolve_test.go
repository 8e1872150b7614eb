package vault

import (
	"context"
	"errors"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

type mapResolver map[string]string

func (m mapResolver) Resolve(_ context.Context, ref string, _ Subject) (Secret, error) {
	if v, ok := m[ref]; ok {
		return SecretString(v), nil
	}
	return Secret{}, errors.New("not found")
}

func TestResolve(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.set(t, "TOKEN", "val1")
	e.set(t, "TOKEN", "val2")
	mux := NewMux(e.v)
	mux.Register("azkv", mapResolver{"prod-kv/TOKEN": "from-azure"})
	tests := []struct {
		ref, want string
		kind      usererr.Kind
	}{
		{"TOKEN", "val2", 0},
		{"TOKEN@1", "val1", 0},
		{"secret:TOKEN@1", "val1", 0},
		{"azkv:prod-kv/TOKEN", "from-azure", 0},
		{"TOKEN@0", "", usererr.Invalid},
		{"TOKEN@x", "", usererr.Invalid},
		{"bad name", "", usererr.Invalid},
		{"hcv:kv/data/x", "", usererr.Invalid},
		{"MISSING", "", usererr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			s, err := mux.Resolve(ctx, tt.ref, admin)
			if tt.want != "" {
				if err != nil || s.Reveal() != tt.want {
					t.Fatalf("got %v", err)
				}
				return
			}
			if usererr.KindOf(err) != tt.kind {
				t.Fatalf("err = %v, want kind %s", err, tt.kind.Code())
			}
		})
	}
	look := LookupFunc(ctx, mux, admin)
	if v, err := look("TOKEN"); err != nil || v != "val2" {
		t.Fatalf("LookupFunc = %q, %v", v, err)
	}
}
