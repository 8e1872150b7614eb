package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// PreviewPolicy is what a project's phoenix.yaml says of its preview
// environments (environments.<name>.preview).
type PreviewPolicy struct {
	// Enabled allows previews to be created.
	Enabled bool
	// TTL is how long a preview may go without a deployment before the
	// server deletes it; 0 keeps previews until they are deleted by hand.
	TTL time.Duration
	// Max is the most previews the project keeps; 0 means no limit.
	Max int
	// Setting names the phoenix.yaml field the policy comes from, e.g.
	// environments.staging.preview, for messages and the audit log.
	Setting string
	// Why says, when previews are not enabled, what the server found
	// instead, e.g. "no phoenix.yaml of project shop is on the server".
	Why string
}

// previewPolicy is project's policy; without Options.Previews (the
// package's own tests, tools) previews are unrestricted.
func (s *Service) previewPolicy(ctx context.Context, project string) PreviewPolicy {
	if s.opts.Previews == nil {
		return PreviewPolicy{Enabled: true}
	}
	return s.opts.Previews(ctx, project)
}

// PreviewAllowed refuses a preview of project when its phoenix.yaml does
// not enable previews, naming the setting that would.
func (s *Service) PreviewAllowed(ctx context.Context, project string) error {
	p := s.previewPolicy(ctx, project)
	if p.Enabled {
		return nil
	}
	return usererr.New(usererr.Conflict, "previews are off for project %s: %s", project, p.Why).
		WithHint("set preview: true (or {ttl: 7d, max: 10}) on an environment of phoenix.yaml, e.g. environments.staging.preview, and deploy again")
}

// admitPreview lets a new preview env of project in: refused when
// previews are off; at the policy's max, the least recently deployed
// previews are deleted to make room for it (as an old pull request's
// preview is the one nobody looks at any more).
func (s *Service) admitPreview(ctx context.Context, project, env string) error {
	if err := s.PreviewAllowed(ctx, project); err != nil {
		return err
	}
	p := s.previewPolicy(ctx, project)
	if p.Max <= 0 {
		return nil
	}
	previews, err := s.previewsByLastDeploy(ctx, project)
	if err != nil {
		return err
	}
	for _, pv := range previews {
		if pv.name == env {
			return nil // not a new one
		}
	}
	detail := fmt.Sprintf("preview removed: the least recently deployed of %d, over %s.max %d to make room for %s",
		len(previews), p.Setting, p.Max, env)
	for i := 0; i < len(previews)-p.Max+1; i++ {
		if err := s.deleteEnv(ctx, project, previews[i].name, detail); err != nil {
			return err
		}
	}
	return nil
}

// preview is a preview environment and when it was last deployed to (or
// created, without a deployment).
type preview struct {
	name string
	last time.Time
}

// previewsByLastDeploy lists project's unlocked previews, the least
// recently deployed first.
func (s *Service) previewsByLastDeploy(ctx context.Context, project string) ([]preview, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT e.name, COALESCE((SELECT MAX(d.created_at) FROM deployments d
		WHERE d.project = e.project AND d.environment = e.name), e.created_at) AS last
		FROM environments e WHERE e.project = $1 AND e.kind = 'preview' AND e.locked = 0 ORDER BY last, e.name`, project)
	if err != nil {
		return nil, fmt.Errorf("deploy: list the previews of %s: %w", project, err)
	}
	defer rows.Close()
	var out []preview
	for rows.Next() {
		var p preview
		var last string
		if err := rows.Scan(&p.name, &last); err != nil {
			return nil, err
		}
		if t := parseTime(last); t != nil {
			p.last = *t
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ExpirePreviews deletes every preview not deployed to for longer than
// its project's TTL at now (the server calls it on a schedule with the
// time of day; tests with a time of their choosing), each audited as
// env.delete saying why, and returns how many it deleted. Its host names
// stop answering as a deleted environment's do.
func (s *Service) ExpirePreviews(ctx context.Context, now time.Time) (int, error) {
	projects, err := s.previewProjects(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, project := range projects {
		p := s.previewPolicy(ctx, project)
		if p.TTL <= 0 {
			continue
		}
		previews, err := s.previewsByLastDeploy(ctx, project)
		if err != nil {
			return n, err
		}
		for _, pv := range previews {
			if now.Sub(pv.last) <= p.TTL {
				break // the rest were deployed more recently
			}
			detail := fmt.Sprintf("preview expired: not deployed to since %s, over %s.ttl %s",
				pv.last.UTC().Format(time.RFC3339), p.Setting, p.TTL)
			if err := s.deleteEnv(ctx, project, pv.name, detail); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// previewProjects lists the projects that have a preview.
func (s *Service) previewProjects(ctx context.Context) ([]string, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT DISTINCT project FROM environments WHERE kind = 'preview' ORDER BY project`)
	if err != nil {
		return nil, fmt.Errorf("deploy: list the projects with previews: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
