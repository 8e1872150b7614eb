package deploy

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// A custom domain routes a host name to one environment, so the edge would
// serve whichever environment claimed it last. The service therefore keeps
// every name to one owner, and keeps the names Phoenix gives environments
// itself (<env>.<project>.localhost, and <env>.<project>.<SitesDomain>) out
// of reach of custom domains: a project must not be able to take another
// project's traffic by declaring its host name.

// normalizeDomain lower-cases a host name and drops a trailing dot.
func normalizeDomain(d string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
}

// reservedBy names who gives out host name d, or "" when d may be a custom
// domain.
func (s *Service) reservedBy(d string) string {
	if d == "localhost" || strings.HasSuffix(d, ".localhost") {
		return "localhost"
	}
	if sd := s.opts.SitesDomain; sd != "" && (d == sd || strings.HasSuffix(d, "."+sd)) {
		return sd
	}
	return ""
}

// checkDomains refuses, inside the transaction that saves environment env
// of project, a domain that is reserved or already a domain of another
// environment. It returns the domains normalized.
func (s *Service) checkDomains(ctx context.Context, tx *sql.Tx, project, env string, domains []string) ([]string, error) {
	if len(domains) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(domains))
	for _, d := range domains {
		d = normalizeDomain(d)
		if r := s.reservedBy(d); r != "" {
			return nil, usererr.New(usererr.Invalid, "domain %s of environment %s is under %s, whose names Phoenix gives environments itself", d, env, r).
				WithHint("every environment already answers at <env>.<project>.%s; list only your own domains under domains:", r)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	owner, err := domainOwners(ctx, tx, project, env)
	if err != nil {
		return nil, err
	}
	for _, d := range out {
		o, taken := owner[d]
		switch {
		case !taken:
		case o.project == project:
			return nil, usererr.New(usererr.Conflict, "domain %s is already a domain of environment %s", d, o.env).
				WithHint("a domain belongs to one environment: remove it from %s first", o.env)
		default:
			// Another project's: its name is not the caller's to learn.
			return nil, usererr.New(usererr.Conflict, "domain %s already belongs to an environment of another project", d).
				WithHint("a domain belongs to one environment: an admin can find it with phoenix projects and remove it there first")
		}
	}
	return out, nil
}

type envRef struct{ project, env string }

// domainOwners maps every custom domain to its environment, leaving out
// environment env of project.
func domainOwners(ctx context.Context, tx *sql.Tx, project, env string) (map[string]envRef, error) {
	rows, err := tx.QueryContext(ctx, `SELECT project, name, domains FROM environments WHERE domains <> ''`)
	if err != nil {
		return nil, fmt.Errorf("deploy: read domains: %w", err)
	}
	defer rows.Close()
	owner := map[string]envRef{}
	for rows.Next() {
		var ref envRef
		var domains string
		if err := rows.Scan(&ref.project, &ref.env, &domains); err != nil {
			return nil, fmt.Errorf("deploy: read domains: %w", err)
		}
		if ref.project == project && ref.env == env {
			continue
		}
		for _, d := range strings.Split(domains, ",") {
			owner[normalizeDomain(d)] = ref
		}
	}
	return owner, rows.Err()
}
