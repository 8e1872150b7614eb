package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

const alicePassword = "correct horse battery"

// countingProvider is the password provider counting its Verify calls
// (each is an argon2id verification); hold, when set, keeps each call
// waiting until it is closed.
type countingProvider struct {
	Provider
	calls atomic.Int64
	hold  chan struct{}
}

func (p *countingProvider) Verify(ctx context.Context, c Credentials) (Identity, error) {
	p.calls.Add(1)
	if p.hold != nil {
		<-p.hold
	}
	return p.Provider.Verify(ctx, c)
}

func (f *fixture) login(p Provider, password, source string) error {
	_, err := f.svc.Login(ctx, p, Credentials{Username: "alice", Password: password}, source)
	return err
}

// TestGuessingFromOneAddressDoesNotLockOutAnother: failed sign-ins count
// per user name and address. Whoever guesses alice's password from one
// address is refused (429, without an argon2 verification) after 5 a
// minute, even with the right password, while alice signs in from her
// own address, also after a typo of her own. Every attempt is audited.
// Before, 5 attempts a minute for a user name from anywhere locked the
// user out everywhere. The buckets in memory and in the database behave
// alike (bothBuckets), as in the next two tests.
func TestGuessingFromOneAddressDoesNotLockOutAnother(t *testing.T) {
	bothBuckets(t, func(t *testing.T, f *fixture) {
		f.user(t, "alice", Grant{Role: RoleViewer})
		p := &countingProvider{Provider: f.svc.PasswordProvider()}
		for i := range 5 {
			if err := f.login(p, fmt.Sprint("guess ", i), "203.0.113.66"); errors.Is(err, ErrRateLimited) || err == nil {
				t.Fatalf("guess %d: %v, want refused as a bad password", i+1, err)
			}
		}
		for range 20 {
			if err := f.login(p, "another guess", "203.0.113.66"); !errors.Is(err, ErrRateLimited) {
				t.Fatalf("guess past the limit: %v, want ErrRateLimited", err)
			}
		}
		if err := f.login(p, alicePassword, "203.0.113.66"); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("the right password from the guessing address: %v, want ErrRateLimited", err)
		}
		if n := p.calls.Load(); n != 5 {
			t.Fatalf("%d argon2 verifications, want 5: refused attempts must not verify", n)
		}
		if err := f.login(p, "alice's typo", "198.51.100.7"); errors.Is(err, ErrRateLimited) || err == nil {
			t.Fatalf("alice's typo: %v", err)
		}
		if err := f.login(p, alicePassword, "198.51.100.7"); err != nil {
			t.Fatalf("alice from her own address while another is guessing: %v", err)
		}
		// An IPv6 guesser cannot take a fresh address of its /64 for each guess.
		for i := range 6 {
			err := f.login(p, "v6 guess", fmt.Sprintf("2001:db8:7:7::%x", i+1))
			if limited := errors.Is(err, ErrRateLimited); limited != (i == 5) {
				t.Fatalf("guess %d from the /64: %v", i+1, err)
			}
		}
		f.now = f.now.Add(time.Minute)
		if err := f.login(p, alicePassword, "203.0.113.66"); err != nil {
			t.Fatalf("a minute later from the guessing address: %v", err)
		}
		outcomes := f.loginOutcomes(t)
		if outcomes[audit.OK] != 2 || outcomes[audit.Failed] != 5+1+5 || outcomes[audit.RateLimited] != 20+1+1 {
			t.Fatalf("audit outcomes %v: every attempt must be recorded", outcomes)
		}
		recs, _ := f.log.Query(ctx, audit.Filter{Action: "auth.login"})
		for _, r := range recs {
			if r.Outcome == audit.RateLimited && r.Detail != "too many failed sign-ins of this user from this address" {
				t.Fatalf("rate-limited record says %q", r.Detail)
			}
		}
	})
}

func (f *fixture) loginOutcomes(t *testing.T) map[string]int {
	t.Helper()
	recs, err := f.log.Query(ctx, audit.Filter{Action: "auth.login"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range recs {
		out[r.Outcome]++
	}
	return out
}

// TestDistributedGuessingMeetsTheUserCeiling: guesses spread over many
// addresses, each below its own limit, stop at 100 failures a minute for
// the user name: then every address is refused, the right password too,
// until the minute has passed. The per-address limit stays: 10 attempts
// a minute from one address, whatever the user names.
func TestDistributedGuessingMeetsTheUserCeiling(t *testing.T) {
	bothBuckets(t, func(t *testing.T, f *fixture) {
		f.user(t, "alice", Grant{Role: RoleViewer})
		for i := range 100 {
			if err := f.login(nil, "guess", fmt.Sprintf("10.1.%d.%d", i/4, i%4)); errors.Is(err, ErrRateLimited) || err == nil {
				t.Fatalf("guess %d from its own address: %v", i+1, err)
			}
		}
		if err := f.login(nil, alicePassword, "198.51.100.7"); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("past the ceiling from a fresh address: %v, want ErrRateLimited", err)
		}
		recs, _ := f.log.Query(ctx, audit.Filter{Action: "auth.login", Newest: true, Limit: 1})
		if len(recs) != 1 || recs[0].Detail != "too many failed sign-ins of this user from all addresses" {
			t.Fatalf("the refusal's record: %+v", recs)
		}
		f.now = f.now.Add(time.Minute)
		if err := f.login(nil, alicePassword, "198.51.100.7"); err != nil {
			t.Fatalf("a minute later: %v", err)
		}
		for i := range 11 {
			_, err := f.svc.Login(ctx, nil, Credentials{Username: fmt.Sprint("user", i), Password: "guess"}, "192.0.2.1")
			if limited := errors.Is(err, ErrRateLimited); limited != (i == 10) {
				t.Fatalf("attempt %d from one address for user%d: %v", i+1, i, err)
			}
		}
		recs, _ = f.log.Query(ctx, audit.Filter{Action: "auth.login", Newest: true, Limit: 1})
		if len(recs) != 1 || recs[0].Detail != "too many sign-ins from this address" {
			t.Fatalf("the refusal's record: %+v", recs)
		}
	})
}

// TestConcurrentGuessesStayWithinTheLimit: a failure is counted before
// the hash is checked, so 20 guesses at once from one address get 5
// argon2 verifications, not 20.
func TestConcurrentGuessesStayWithinTheLimit(t *testing.T) {
	bothBuckets(t, func(t *testing.T, f *fixture) {
		f.user(t, "alice", Grant{Role: RoleViewer})
		p := &countingProvider{Provider: f.svc.PasswordProvider(), hold: make(chan struct{})}
		errs := make(chan error)
		for range 20 {
			go func() { errs <- f.login(p, "guess", "203.0.113.66") }()
		}
		for range 15 { // the 5 that got through wait in Verify
			if err := <-errs; !errors.Is(err, ErrRateLimited) {
				t.Fatalf("an attempt past the limit: %v", err)
			}
		}
		close(p.hold)
		for range 5 {
			if err := <-errs; err == nil || errors.Is(err, ErrRateLimited) {
				t.Fatalf("a verified guess: %v", err)
			}
		}
		if n := p.calls.Load(); n != 5 {
			t.Fatalf("%d verifications, want 5", n)
		}
	})
}

// bothBuckets runs test with the limits' buckets in memory (a server
// alone) and in the database (replicas): they must behave the same.
func bothBuckets(t *testing.T, test func(t *testing.T, f *fixture)) {
	for _, c := range []struct {
		name     string
		replicas bool
	}{{"memory", false}, {"database", true}} {
		t.Run(c.name, func(t *testing.T) { test(t, newFixtureWith(t, Options{Replicas: c.replicas})) })
	}
}

// signIn is a sign-in of user on svc (a replica) from source.
func signIn(svc *Service, p Provider, user, password, source string) error {
	_, err := svc.Login(ctx, p, Credentials{Username: user, Password: password}, source)
	return err
}

// refusedOnEach checks that a sign-in of user from source is refused on
// every replica, and that each refusal's audit record says why.
func (f *fixture) refusedOnEach(t *testing.T, replicas []*Service, p Provider, user, password, source, why string) {
	t.Helper()
	for i, svc := range replicas {
		if err := signIn(svc, p, user, password, source); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("%s from %s on replica %d: %v, want ErrRateLimited", user, source, i, err)
		}
		recs, err := f.log.Query(ctx, audit.Filter{Action: "auth.login", Newest: true, Limit: 1})
		if err != nil || len(recs) != 1 || recs[0].Outcome != audit.RateLimited || recs[0].Detail != why {
			t.Fatalf("replica %d's refusal is recorded as %+v (%v), want rate_limited, %q", i, recs, err, why)
		}
	}
}

// TestReplicasShareLoginLimits: two servers on one database (replicas
// behind a load balancer) count against the same limits. Alice's 5
// failed sign-ins from one address, spread over both, are the limit: the
// 6th is refused on either, for the same reason as on one server, and
// without an argon2 verification. A right password gives its failure
// back on both. The per-address limit is shared too. Before, each server
// counted its own attempts: twice the guesses with two replicas.
func TestReplicasShareLoginLimits(t *testing.T) {
	f := newFixtureWith(t, Options{Replicas: true})
	f.user(t, "alice", Grant{Role: RoleViewer})
	replicas := []*Service{f.svc, f.replica(t, Options{Replicas: true})}
	p := &countingProvider{Provider: f.svc.PasswordProvider()}
	for i := range 5 {
		if err := signIn(replicas[i%2], p, "alice", fmt.Sprint("guess ", i), "203.0.113.66"); errors.Is(err, ErrRateLimited) || err == nil {
			t.Fatalf("guess %d on replica %d: %v, want refused as a bad password", i+1, i%2, err)
		}
	}
	f.refusedOnEach(t, replicas, p, "alice", alicePassword, "203.0.113.66", "too many failed sign-ins of this user from this address")
	if n := p.calls.Load(); n != 5 {
		t.Fatalf("%d argon2 verifications, want 5: refused attempts must not verify", n)
	}

	// 4 failures, the right password, then one more failure: the right
	// password gave its failure back, so only the 7th is refused.
	for i := range 6 {
		password := "typo"
		if i == 4 {
			password = alicePassword
		}
		err := signIn(replicas[i%2], p, "alice", password, "198.51.100.7")
		if (err == nil) != (i == 4) || errors.Is(err, ErrRateLimited) {
			t.Fatalf("attempt %d from alice's address on replica %d: %v", i+1, i%2, err)
		}
	}
	if err := signIn(replicas[0], p, "alice", "typo", "198.51.100.7"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("a 6th failure from alice's address: %v, want ErrRateLimited", err)
	}

	// 10 attempts a minute from one address, whatever the user names,
	// on whichever replica.
	for i := range 10 {
		if err := signIn(replicas[i%2], nil, fmt.Sprint("user", i), "guess", "192.0.2.1"); err == nil || errors.Is(err, ErrRateLimited) {
			t.Fatalf("attempt %d from one address on replica %d: %v", i+1, i%2, err)
		}
	}
	f.refusedOnEach(t, replicas, nil, "user10", "guess", "192.0.2.1", "too many sign-ins from this address")

	f.now = f.now.Add(time.Minute)
	if err := signIn(replicas[1], p, "alice", alicePassword, "203.0.113.66"); err != nil {
		t.Fatalf("a minute later from the guessing address: %v", err)
	}
}

// TestReplicasShareTheUserCeiling: the 100 failures a minute for one
// user name are counted across replicas, from any addresses.
func TestReplicasShareTheUserCeiling(t *testing.T) {
	f := newFixtureWith(t, Options{Replicas: true})
	f.user(t, "alice", Grant{Role: RoleViewer})
	replicas := []*Service{f.svc, f.replica(t, Options{Replicas: true})}
	for i := range 100 {
		if err := signIn(replicas[i%2], nil, "alice", "guess", fmt.Sprintf("10.1.%d.%d", i/4, i%4)); err == nil || errors.Is(err, ErrRateLimited) {
			t.Fatalf("guess %d on replica %d: %v", i+1, i%2, err)
		}
	}
	f.refusedOnEach(t, replicas, nil, "alice", alicePassword, "198.51.100.7", "too many failed sign-ins of this user from all addresses")
}

// loginBuckets is how many rows auth_login_buckets holds.
func (f *fixture) loginBuckets(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(ctx, `SELECT count(*) FROM auth_login_buckets`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLoginBucketsDoNotPileUp: a bucket in the database that is full
// again has no row. A good sign-in leaves only its address's bucket (its
// failure given back leaves the user's full), and rows untouched for
// two minutes go at a later attempt.
func TestLoginBucketsDoNotPileUp(t *testing.T) {
	f := newFixtureWith(t, Options{Replicas: true})
	f.user(t, "alice", Grant{Role: RoleViewer})
	if err := signIn(f.svc, nil, "alice", alicePassword, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	if n := f.loginBuckets(t); n != 1 {
		t.Fatalf("%d buckets after a good sign-in, want 1 (the address's)", n)
	}
	for i := range 30 {
		if err := signIn(f.svc, nil, fmt.Sprint("user", i), "guess", fmt.Sprintf("10.2.0.%d", i)); err == nil {
			t.Fatalf("guess %d signed in", i+1)
		}
	}
	if n := f.loginBuckets(t); n != 1+3*30 {
		t.Fatalf("%d buckets after 30 failures from 30 addresses for 30 users, want %d", n, 1+3*30)
	}
	f.now = f.now.Add(bucketsKeep + time.Second)
	if err := signIn(f.svc, nil, "alice", "typo", "203.0.113.9"); err == nil {
		t.Fatal("a typo signed in")
	}
	if n := f.loginBuckets(t); n != 3 {
		t.Fatalf("%d buckets after two minutes and one failure, want that failure's 3", n)
	}
}

// TestLoginLimitsFailClosed: when the database holding the limits fails,
// a sign-in is refused (Unavailable, no password checked, not a panic
// nor a sign-in without limits), the failure is logged and the attempt
// audited.
func TestLoginLimitsFailClosed(t *testing.T) {
	var logs testkit.LogBuffer
	f := newFixtureWith(t, Options{Replicas: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	f.user(t, "alice", Grant{Role: RoleViewer})
	if _, err := f.db.ExecContext(ctx, `DROP TABLE auth_login_buckets`); err != nil {
		t.Fatal(err)
	}
	p := &countingProvider{Provider: f.svc.PasswordProvider()}
	err := signIn(f.svc, p, "alice", alicePassword, "198.51.100.7")
	if err == nil || errors.Is(err, ErrRateLimited) || usererr.KindOf(err) != usererr.Unavailable {
		t.Fatalf("sign-in without its limits: %v, want refused as Unavailable", err)
	}
	if err.Error() != "sign-in is unavailable: the sign-in limits cannot be checked" {
		t.Fatalf("the answer says %q", err)
	}
	if n := p.calls.Load(); n != 0 {
		t.Fatalf("%d argon2 verifications, want none", n)
	}
	if !logs.Contains("sign-in refused: the sign-in limits cannot be checked") || !logs.Contains("auth_login_buckets") {
		t.Fatalf("the log does not say why:\n%s", logs.String())
	}
	recs, _ := f.log.Query(ctx, audit.Filter{Action: "auth.login", Newest: true, Limit: 1})
	if len(recs) != 1 || recs[0].Outcome != audit.Failed || recs[0].Detail != "the sign-in limits could not be checked" {
		t.Fatalf("the attempt's record: %+v", recs)
	}
}
