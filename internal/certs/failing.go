package certs

import (
	"context"
	"fmt"
	"time"
)

// OrderFailure is a name the edge serves that has no certificate because
// its order keeps failing (on demand, or managed up front through
// DNS-01), as every server on the database recorded it.
type OrderFailure struct {
	Name      string
	Since     time.Time // the first failed attempt in a row
	Failures  int       // failed attempts since
	LastError string    // the CA's (or the challenge's) last error, shortened
	LastAt    time.Time
}

// recordFailure counts a failed attempt to obtain name's certificate in
// certs_failures (its first failure in a row starts since).
func (m *Manager) recordFailure(ctx context.Context, name, msg string) error {
	now := time.Now().UnixMilli()
	_, err := m.opts.DB.ExecContext(ctx, `INSERT INTO certs_failures (name, since, failures, last_error, last_at) VALUES ($1, $2, 1, $3, $2)
		ON CONFLICT (name) DO UPDATE SET failures = certs_failures.failures + 1, last_error = $3, last_at = $2`, name, now, shorten(msg))
	if err != nil {
		return fmt.Errorf("certs: record the failed order of %s: %w", name, err)
	}
	return nil
}

// forgetFailure drops name's failures: it has a certificate, or is no
// longer served.
func (m *Manager) forgetFailure(ctx context.Context, name string) error {
	if _, err := m.opts.DB.ExecContext(ctx, `DELETE FROM certs_failures WHERE name = $1`, name); err != nil {
		return fmt.Errorf("certs: forget the failed order of %s: %w", name, err)
	}
	return nil
}

// failureEvent keeps certs_failures up to date from certmagic's events: a
// failed order (not a renewal: that name has a certificate, which the
// expiry alert watches) counts, an obtained certificate clears the name.
// A store that cannot be written is logged.
func (m *Manager) failureEvent(ctx context.Context, event string, data map[string]any) {
	id, _ := data["identifier"].(string)
	id = NormalizeName(id)
	renewal, _ := data["renewal"].(bool)
	var err error
	switch {
	case id == "":
	case event == "cert_failed" && !renewal:
		err = m.recordFailure(ctx, id, fmt.Sprint(data["error"]))
	case event == "cert_obtained":
		err = m.forgetFailure(ctx, id)
	}
	if err != nil {
		m.opts.Logger.Warn("acme: failed orders", "err", err)
	}
}

// FailingOrders lists the names whose orders have failed since their last
// certificate, oldest failure first, as recorded by every server on the
// database, across restarts. A name that has a certificate in the store
// now, or that Allow refuses as NotServed (a domain taken off), is left
// out and forgotten; any other failure of Allow fails the listing.
func (m *Manager) FailingOrders(ctx context.Context) ([]OrderFailure, error) {
	all, err := m.failureRows(ctx)
	if err != nil {
		return nil, err
	}
	var out []OrderFailure
	for _, f := range all {
		err := m.opts.Allow(ctx, f.Name)
		if err != nil && !IsNotServed(err) {
			return nil, fmt.Errorf("certs: is %s still served: %w", f.Name, err)
		}
		if err != nil || m.stored(ctx, f.Name) {
			if err := m.forgetFailure(ctx, f.Name); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// failureRows reads certs_failures, oldest failure first.
func (m *Manager) failureRows(ctx context.Context) ([]OrderFailure, error) {
	rows, err := m.opts.DB.QueryContext(ctx, `SELECT name, since, failures, last_error, last_at FROM certs_failures ORDER BY since, name`)
	if err != nil {
		return nil, fmt.Errorf("certs: failed orders: %w", err)
	}
	defer rows.Close()
	var out []OrderFailure
	for rows.Next() {
		var f OrderFailure
		var since, at int64
		if err := rows.Scan(&f.Name, &since, &f.Failures, &f.LastError, &at); err != nil {
			return nil, fmt.Errorf("certs: failed orders: %w", err)
		}
		f.Since, f.LastAt = time.UnixMilli(since).UTC(), time.UnixMilli(at).UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("certs: failed orders: %w", err)
	}
	return out, nil
}
