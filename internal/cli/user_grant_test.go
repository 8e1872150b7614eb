package cli

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
)

// TestUserGrantShowsTheGrantsSet: what 'phoenix user grant' prints is the
// grants the server now holds, the same as 'phoenix user list'. A grant
// without a project, set after grants with one, was shown with the
// project of the grant that was in its place before.
func TestUserGrantShowsTheGrantsSet(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustRun(t, "", "user", "add", "alice", "--role", "contributor", "--env", "staging", "--data", data)
	mustRun(t, "", "user", "grant", "alice", "viewer", "--env", "staging", "--project", "shop", "--data", data)
	mustRun(t, "", "user", "grant", "alice", "viewer", "--env", "staging", "--project", "blog", "--data", data)
	printed := mustRun(t, "", "user", "grant", "alice", "viewer", "--env", "production", "-o", "json", "--data", data)
	var got auth.User
	if err := json.Unmarshal([]byte(printed), &got); err != nil {
		t.Fatalf("%v: %s", err, printed)
	}
	var listed []auth.User
	if err := json.Unmarshal([]byte(mustRun(t, "", "user", "list", "-o", "json", "--data", data)), &listed); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(listed, func(u auth.User) bool { return u.Name == "alice" })
	want := []auth.Grant{ // the server's order
		{Role: "contributor", Environment: "staging"},
		{Role: "viewer", Environment: "production"},
		{Role: "viewer", Project: "blog", Environment: "staging"},
		{Role: "viewer", Project: "shop", Environment: "staging"},
	}
	if i < 0 || !slices.Equal(listed[i].Grants, want) {
		t.Fatalf("user list has %+v, want %+v", listed, want)
	}
	if !slices.Equal(got.Grants, want) {
		t.Fatalf("user grant printed %+v, the server holds %+v", got.Grants, want)
	}
}
