package auth

import (
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
	buckets throttle.Buckets
}

func newLoginLimiter(r LoginRate) *loginLimiter {
	if r.PerSource <= 0 {
		r.PerSource = 10
	}
	if r.PerUserSource <= 0 {
		r.PerUserSource = 5
	}
	if r.PerUser <= 0 {
		r.PerUser = 100
	}
	return &loginLimiter{rate: r}
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

// begin counts an attempt from source for user and a failure up front;
// false (and why, for the audit record) when a limit is reached.
func (l *loginLimiter) begin(now time.Time, source, user string) (loginAttempt, bool, string) {
	a := l.attempt(source, user)
	if ok, _ := l.buckets.Take(now, append([]throttle.Limit{a.source}, a.failures...)...); ok {
		return a, true, ""
	}
	switch {
	case l.buckets.Empty(now, a.source):
		return a, false, "too many sign-ins from this address"
	case l.buckets.Empty(now, a.failures[0]):
		return a, false, "too many failed sign-ins of this user from this address"
	}
	return a, false, "too many failed sign-ins of this user from all addresses"
}

// succeeded gives back the failure begin counted: the credential was
// good.
func (l *loginLimiter) succeeded(now time.Time, a loginAttempt) {
	l.buckets.Give(now, a.failures...)
}
