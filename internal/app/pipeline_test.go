package app

import (
	"context"
	"slices"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
)

func TestChildEnvDropsKeysAndTokens(t *testing.T) {
	t.Parallel()
	in := []string{"PATH=/bin", "PHOENIX_MASTER_KEY=k", "PHOENIX_MASTER_KEY_FILE=/k", "PHOENIX_TOKEN=phx_x", "PHOENIX_DATA=/d",
		"PHOENIX_BACKUP_KEY=b", "PHOENIX_BACKUP_KEY_FILE=/b", "PHOENIX_BACKUP_REPO=/r", "HOME=/h",
		"PHOENIX_DATABASE_URL=postgres://u:pw@h/db", "PGPASSWORD=pw"}
	got := childEnv(in)
	if want := []string{"PATH=/bin", "PHOENIX_DATA=/d", "PHOENIX_BACKUP_REPO=/r", "HOME=/h"}; !slices.Equal(got, want) {
		t.Fatalf("childEnv = %v, want %v", got, want)
	}
}

// TestCanApprove: the approve permission in the environment, and when the
// environment names approvers, one of them (by name or role).
func TestCanApprove(t *testing.T) {
	t.Parallel()
	a := start(t, t.TempDir())
	ctx := context.Background()
	users := map[string][]auth.Grant{
		"ann":  {{Role: auth.RoleApprover}},
		"bob":  {{Role: auth.RoleContributor}},
		"cat":  {{Role: auth.RoleApprover, Environment: "staging"}},
		"dave": {{Role: auth.RoleAdmin}},
	}
	for name, gs := range users {
		if _, err := a.Auth.CreateUser(ctx, name, "", gs); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		actor, env string
		approvers  []string
		want       bool
	}{
		{"ann", "production", nil, true},
		{"bob", "production", nil, false},
		{"cat", "production", nil, false},
		{"cat", "staging", nil, true},
		{"ann", "production", []string{"admin"}, false},
		{"dave", "production", []string{"admin"}, true},
		{"ann", "production", []string{"ann"}, true},
		{"nobody", "production", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.actor+"/"+tt.env, func(t *testing.T) {
			if got := a.canApprove(ctx, tt.actor, tt.env, tt.approvers); got != tt.want {
				t.Fatalf("canApprove(%s, %s, %v) = %v", tt.actor, tt.env, tt.approvers, got)
			}
		})
	}
}
