package deploy

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// A project's edge policy is the `edge:` section of its phoenix.yaml:
// header rules, a rate limit and the firewall, applied by the edge to
// every environment of the project. It is stored with the project as
// config.Edge's canonical JSON ("" for none) and changed with
// SetEdgePolicy; the edge reads it at each publish.

// PolicyListener is told, after the commit, that project's edge policy
// changed. Like a Listener it must not block for long.
type PolicyListener func(project string)

// OnEdgePolicy registers l for every later change of what the edge applies
// to a project's environments: its edge policy, or an environment's
// domains or allow-list.
func (s *Service) OnEdgePolicy(l PolicyListener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policyListeners = append(s.policyListeners, l)
}

// EdgePolicy returns project's edge policy, nil when it has none. An
// unknown project is a NotFound error.
func (s *Service) EdgePolicy(ctx context.Context, project string) (*config.Edge, error) {
	raw, err := s.storedPolicy(ctx, project)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, usererr.New(usererr.NotFound, "no project %q", project).WithHint("deploy it once first: phoenix deploy")
	}
	if err != nil || raw == nil {
		return nil, err
	}
	e, err := config.ParseEdge(raw, "stored edge policy of "+project)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	return e, nil
}

// EdgePolicies returns the stored policy of every project that has one,
// as canonical JSON by project name: what a replica compares with what
// its edge applies.
func (s *Service) EdgePolicies(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT name, edge_policy FROM projects WHERE edge_policy <> ''`)
	if err != nil {
		return nil, fmt.Errorf("deploy: edge policies: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var name, raw string
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, fmt.Errorf("deploy: edge policies: %w", err)
		}
		out[name] = []byte(raw)
	}
	return out, rows.Err()
}

// SetEdgePolicy makes e (validated by config.ParseEdge; nil or empty
// clears it) project's edge policy, creating the project when missing. An
// unchanged policy writes and audits nothing and reports false. A change
// is checked with Options.CheckEdge first, audited as edge.save in its
// transaction, and announced to the OnEdgePolicy listeners after it.
func (s *Service) SetEdgePolicy(ctx context.Context, project string, e *config.Edge, actor string) (changed bool, err error) {
	canon, err := e.Canonical()
	if err != nil {
		return false, fmt.Errorf("deploy: edge policy of %s: %w", project, err)
	}
	if err := s.EnsureProject(ctx, project); err != nil {
		return false, err
	}
	if cur, err := s.storedPolicy(ctx, project); err != nil || bytes.Equal(cur, canon) {
		return false, err
	}
	if s.opts.CheckEdge != nil && canon != nil {
		if err := s.opts.CheckEdge(ctx, project, e); err != nil {
			return false, err
		}
	}
	err = s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE projects SET edge_policy = $2 WHERE name = $1 AND edge_policy <> $2`, project, string(canon))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // a concurrent call stored the same policy first
		}
		changed = true
		return s.audit(ctx, tx, Event{Action: "edge.save", Project: project, Actor: actor, Detail: policySummary(e)})
	})
	if err != nil {
		return false, fmt.Errorf("deploy: save the edge policy of %s: %w", project, err)
	}
	if changed {
		s.notifyPolicy(project)
	}
	return changed, nil
}

// storedPolicy returns project's canonical policy, nil for none.
func (s *Service) storedPolicy(ctx context.Context, project string) ([]byte, error) {
	var raw string
	if err := s.opts.DB.QueryRowContext(ctx, `SELECT edge_policy FROM projects WHERE name = $1`, project).Scan(&raw); err != nil {
		return nil, fmt.Errorf("deploy: edge policy of %s: %w", project, err)
	}
	if raw == "" {
		return nil, nil
	}
	return []byte(raw), nil
}

func (s *Service) notifyPolicy(project string) {
	for _, l := range listenersOf(s, &s.policyListeners) {
		l(project)
	}
}

// policySummary describes a policy in one line for the audit log:
// the rules' names, the rate limit and the firewall mode, never header
// values.
func policySummary(e *config.Edge) string {
	if e.IsZero() {
		return "no edge policy"
	}
	var parts []string
	if n := len(e.Headers); n > 0 {
		names := make([]string, n)
		for i, h := range e.Headers {
			names[i] = h.Name
		}
		parts = append(parts, fmt.Sprintf("%d header rule(s) %s", n, strings.Join(names, ", ")))
	}
	if r := e.RateLimit; r != nil {
		parts = append(parts, fmt.Sprintf("rate limit %d per %s, burst %d, %d exempt range(s)", r.Requests, config.FormatDuration(r.Per.D()), r.Burst, len(r.Exempt)))
	}
	mode := e.WAF.Mode
	if mode == "" {
		mode = "off"
	}
	parts = append(parts, "waf "+mode)
	return strings.Join(parts, "; ")
}
