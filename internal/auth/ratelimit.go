package auth

import (
	"context"
	"time"

	"github.com/phoenixvc/phoenix/internal/throttle"
)

// LoginRate bounds sign-in attempts a minute; zero fields take the
// defaults. A client address is the one the server resolved (behind a
// trusted proxy the forwarded client), IPv6 by its /64.
//
// Only failures count against a user name, and per address: whoever
// guesses alice's password from one address cannot lock alice out of
// another. PerUser is the ceiling for guessing spread over many
// addresses; someone with that many addresses can reach it and keep
// alice out while they keep at it, which is why it is high.
type LoginRate struct {
	PerSource     int // attempts from one address, good or bad, for any user (default 10)
	PerUserSource int // failed attempts for one user name from one address (default 5)
	PerUser       int // failed attempts for one user name from all addresses together (default 100)
}

// loginLimiter keeps the buckets of LoginRate. A failure is counted
// before the credential is checked and given back when it was good, so
// concurrent guesses cannot pass the limit while their hashes are being
// checked; a refused attempt checks nothing (no argon2 work).
type loginLimiter struct {
	rate    LoginRate
	buckets loginBuckets
}

// loginBuckets is where the buckets are kept: in this server's memory
// (memoryBuckets) or, with replicas, in the database they share
// (dbBuckets, logindb.go).
type loginBuckets interface {
	// take takes a token from each limit's bucket if every one has one
	// and reports -1; otherwise it takes none and reports the index of
	// the first limit whose bucket has none.
	take(ctx context.Context, now time.Time, limits []throttle.Limit) (int, error)
	// give gives back a token take took from each limit's bucket.
	give(ctx context.Context, now time.Time, limits []throttle.Limit) error
}

func newLoginLimiter(r LoginRate, b loginBuckets) *loginLimiter {
	if r.PerSource <= 0 {
		r.PerSource = 10
	}
	if r.PerUserSource <= 0 {
		r.PerUserSource = 5
	}
	if r.PerUser <= 0 {
		r.PerUser = 100
	}
	return &loginLimiter{rate: r, buckets: b}
}

// loginAttempt is the buckets one attempt took tokens from.
type loginAttempt struct {
	source   throttle.Limit
	failures []throttle.Limit // of the user name; none for a single sign-on
}

func (l *loginLimiter) attempt(source, user string) loginAttempt {
	client := throttle.Client(source)
	a := loginAttempt{source: throttle.Limit{Key: "src:" + client, PerMinute: l.rate.PerSource}}
	if user != "" { // a single sign-on's user is known only after it
		a.failures = []throttle.Limit{
			{Key: "pair:" + client + "\x00" + user, PerMinute: l.rate.PerUserSource},
			{Key: "user:" + user, PerMinute: l.rate.PerUser},
		}
	}
	return a
}

// Why an attempt was refused, for the audit record, by the limit whose
// bucket was empty: the attempt's source, then its failures.
var loginRefusals = []string{
	"too many sign-ins from this address",
	"too many failed sign-ins of this user from this address",
	"too many failed sign-ins of this user from all addresses",
}

// begin counts an attempt from source for user and a failure up front.
// It says why when a limit is reached (for the audit record), "" when
// the attempt may go on; an error when the buckets cannot be read or
// written (the attempt must not go on either).
func (l *loginLimiter) begin(ctx context.Context, now time.Time, source, user string) (loginAttempt, string, error) {
	a := l.attempt(source, user)
	first, err := l.buckets.take(ctx, now, append([]throttle.Limit{a.source}, a.failures...))
	if err != nil || first < 0 {
		return a, "", err
	}
	return a, loginRefusals[min(first, len(loginRefusals)-1)], nil
}

// succeeded gives back the failure begin counted: the credential was
// good.
func (l *loginLimiter) succeeded(ctx context.Context, now time.Time, a loginAttempt) error {
	if len(a.failures) == 0 {
		return nil
	}
	return l.buckets.give(ctx, now, a.failures)
}

// memoryBuckets keeps the buckets in this server's memory. A server
// alone keeps them there: there is nobody to share them with, and an
// attempt then costs no write transaction (on SQLite the one write lock
// and an fsync, which a flood of guesses would take from deploys and
// runs). A restart forgets them, which gives a guesser one minute's
// worth more per restart, not per attempt.
type memoryBuckets struct{ b throttle.Buckets }

func (m *memoryBuckets) take(_ context.Context, now time.Time, limits []throttle.Limit) (int, error) {
	if ok, _ := m.b.Take(now, limits...); ok {
		return -1, nil
	}
	for i, l := range limits[:len(limits)-1] {
		if m.b.Empty(now, l) {
			return i, nil
		}
	}
	return len(limits) - 1, nil
}

func (m *memoryBuckets) give(_ context.Context, now time.Time, limits []throttle.Limit) error {
	m.b.Give(now, limits...)
	return nil
}
