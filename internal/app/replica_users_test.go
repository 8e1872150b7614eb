package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
)

// TestReplicasShareUserChanges: a user disabled or a grant changed on one
// replica reaches the view every other replica's edge checks its
// visitors' sessions against, through the notification; a change no
// notification announced, through the poll.
func TestReplicasShareUserChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, a, b := twoReplicas(t)
	roles := func(app *App, want ...string) func() bool {
		return func() bool {
			got, ok := edgeUsers{app.Auth}.Roles("jane", "production.shop")
			return ok == (want != nil) && slices.Equal(got, want)
		}
	}
	if _, err := a.Auth.CreateUser(ctx, "jane", "", []auth.Grant{{Role: "contributor", Project: "shop"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B knows jane", roles(b, "contributor"))
	if err := a.Auth.SetDisabled(ctx, "jane", true); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, "B signs jane out", roles(b))
	t.Logf("disabling a user on A reached B's edge in %v", took)
	if err := b.Auth.SetDisabled(ctx, "jane", false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A lets jane in again", roles(a, "contributor"))
	if _, err := b.Auth.SetGrants(ctx, "jane", []auth.Grant{{Role: "approver"}}); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, "A sees jane's new grants", roles(a, "approver"))
	t.Logf("a grant changed on B reached A's edge in %v", took)

	if _, err := a.DB.ExecContext(ctx, `UPDATE auth_users SET disabled = 1 WHERE name = 'jane'`); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, "B polled", roles(b))
	t.Logf("an unannounced change reached B's edge in %v (poll every %v)", took, replicaPoll)
}

// TestReplicasShareSignInLimits: replicas count sign-ins against the
// same limits. Five failed sign-ins of jane from one address, spread
// over two replicas, are the limit: the next is refused on both. Before,
// each replica counted its own, and a guesser behind a load balancer got
// five on each.
func TestReplicasShareSignInLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, a, b := twoReplicas(t)
	if _, err := a.Auth.CreateUser(ctx, "jane", "correct horse battery", nil); err != nil {
		t.Fatal(err)
	}
	replicas := []*App{a, b}
	login := func(app *App, password string) error {
		_, err := app.Auth.Login(ctx, nil, auth.Credentials{Username: "jane", Password: password}, "203.0.113.66")
		return err
	}
	for i := range 5 {
		if err := login(replicas[i%2], fmt.Sprint("guess ", i)); err == nil || errors.Is(err, auth.ErrRateLimited) {
			t.Fatalf("guess %d on replica %d: %v, want refused as a bad password", i+1, i%2, err)
		}
	}
	for i, app := range replicas {
		if err := login(app, "correct horse battery"); !errors.Is(err, auth.ErrRateLimited) {
			t.Fatalf("the 6th attempt on replica %d: %v, want auth.ErrRateLimited", i, err)
		}
	}
}
