package certs

import (
	"context"
	"errors"
)

// NotServed marks err, an Allow refusal, as meaning the name is not one
// the edge serves (no custom domain of any environment), as opposed to a
// failure to find out (the store unreachable).
func NotServed(err error) error { return notServed{err} }

type notServed struct{ error }

func (e notServed) Unwrap() error { return e.error }

// IsNotServed reports whether err is, or wraps, a NotServed refusal.
func IsNotServed(err error) bool { return errors.As(err, &notServed{}) }

// unused reports whether none of names is served any more: none is
// managed and Allow refuses each as NotServed (its domain taken off, its
// environment deleted). Such a certificate is no longer renewed; it stays
// in the store. Any other error from Allow is returned.
func (m *Manager) unused(ctx context.Context, names []string) (bool, error) {
	if m.managed.has(names) {
		return false, nil
	}
	for _, n := range names {
		if n = NormalizeName(n); IsWildcard(n) {
			continue // only ever managed
		}
		err := m.opts.Allow(ctx, n)
		if err == nil {
			return false, nil
		}
		if !IsNotServed(err) {
			return false, err
		}
	}
	return true, nil
}
