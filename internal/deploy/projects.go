package deploy

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Project is a project with its environments, each with what it serves.
type Project struct {
	Name         string       `json:"name"`
	Environments []ProjectEnv `json:"environments"`
}

// ProjectEnv is one environment of a project as the projects list shows
// it: its kind, domains and active deployment (none before the first
// deploy), with where the server's verification of that deployment
// stands.
type ProjectEnv struct {
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Domains    []string  `json:"domains,omitempty"`
	Deployment int64     `json:"active_deployment,omitempty"` // 0: no deployment yet
	Release    string    `json:"release,omitempty"`           // the active deployment's version
	DeployedAt time.Time `json:"deployed_at,omitzero"`        // when the active deployment was first deployed
	// LiveSince is when the active deployment went live: its last
	// activation, a rollback to it included (Deployment.LiveSince).
	LiveSince *time.Time `json:"live_since,omitempty"`
	// Verification and VerificationAt are the active deployment's
	// (Deployment.Verification): VerifyPending while the server's
	// verification of it has no verdict yet, since VerificationAt.
	Verification   string     `json:"verification,omitempty"`
	VerificationAt *time.Time `json:"verification_at,omitempty"`
}

// Projects lists every project by name, each with its environments by
// name; a project without environments lists none. One query: projects,
// environments, their active deployments (with where their verification
// stands) and those deployments' releases.
func (s *Service) Projects(ctx context.Context) ([]Project, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT p.name, COALESCE(e.name, ''), COALESCE(e.kind, ''),
		COALESCE(e.domains, ''), COALESCE(d.id, 0), COALESCE(a.release, ''), COALESCE(d.created_at, ''),
		COALESCE(d.verification, ''), COALESCE(d.verification_at, ''),
		COALESCE(e.live_since, '')
		FROM projects p
		LEFT JOIN environments e ON e.project = p.name
		LEFT JOIN deployments d ON d.id = e.active_id
		LEFT JOIN artifacts a ON a.digest = d.artifact
		ORDER BY p.name, e.name`)
	if err != nil {
		return nil, fmt.Errorf("deploy: list projects: %w", err)
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p string
		var e ProjectEnv
		var domains, at, verifiedAt, live string
		if err := rows.Scan(&p, &e.Name, &e.Kind, &domains, &e.Deployment, &e.Release, &at, &e.Verification, &verifiedAt, &live); err != nil {
			return nil, fmt.Errorf("deploy: list projects: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != p {
			out = append(out, Project{Name: p, Environments: []ProjectEnv{}})
		}
		if e.Name == "" {
			continue // a project without environments
		}
		if domains != "" {
			e.Domains = strings.Split(domains, ",")
		}
		e.DeployedAt, _ = time.Parse(time.RFC3339Nano, at)
		e.VerificationAt, e.LiveSince = parseTime(verifiedAt), parseTime(live)
		last := &out[len(out)-1]
		last.Environments = append(last.Environments, e)
	}
	return out, rows.Err()
}
