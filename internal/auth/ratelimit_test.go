package auth

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
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
// user out everywhere.
func TestGuessingFromOneAddressDoesNotLockOutAnother(t *testing.T) {
	f := newFixture(t)
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
	f := newFixture(t)
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
}

// TestConcurrentGuessesStayWithinTheLimit: a failure is counted before
// the hash is checked, so 20 guesses at once from one address get 5
// argon2 verifications, not 20.
func TestConcurrentGuessesStayWithinTheLimit(t *testing.T) {
	f := newFixture(t)
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
}
