package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LoginRate bounds login attempts; zero fields take the defaults.
type LoginRate struct {
	PerSource int // attempts a minute from one address (default 10)
	PerUser   int // attempts a minute for one user name (default 5)
}

// loginLimiter keeps a token bucket per source address and per user name.
// Buckets that are full again are dropped when the map grows, so memory
// stays bounded under a spray of names or addresses.
type loginLimiter struct {
	rate LoginRate
	mu   sync.Mutex
	m    map[string]*rate.Limiter
}

const maxBuckets = 10000

func newLoginLimiter(r LoginRate) *loginLimiter {
	if r.PerSource <= 0 {
		r.PerSource = 10
	}
	if r.PerUser <= 0 {
		r.PerUser = 5
	}
	return &loginLimiter{rate: r, m: map[string]*rate.Limiter{}}
}

// allow takes one attempt from both buckets; false means wait.
func (l *loginLimiter) allow(now time.Time, source, user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) > maxBuckets {
		l.evict(now)
	}
	a := l.bucket("src:"+source, l.rate.PerSource, now)
	if user == "" { // a single sign-on: the name is known only after it
		return a.AllowN(now, 1)
	}
	b := l.bucket("user:"+user, l.rate.PerUser, now)
	okA, okB := a.AllowN(now, 1), b.AllowN(now, 1)
	return okA && okB
}

func (l *loginLimiter) bucket(key string, perMinute int, now time.Time) *rate.Limiter {
	b, ok := l.m[key]
	if !ok {
		b = rate.NewLimiter(rate.Every(time.Minute/time.Duration(perMinute)), perMinute)
		l.m[key] = b
	}
	return b
}

func (l *loginLimiter) evict(now time.Time) {
	for k, b := range l.m {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.m, k)
		}
	}
}
