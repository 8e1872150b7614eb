package deploy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/suggest"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Environment is a deployment target of a project.
type Environment struct {
	Project   string   `json:"project"`
	Name      string   `json:"name"`
	Kind      string   `json:"kind"` // standard or preview
	Locked    bool     `json:"locked"`
	Approvals int      `json:"approvals"`
	Domains   []string `json:"domains,omitempty"`
	IPAllow   []string `json:"ip_allow,omitempty"` // CIDR prefixes; empty allows everyone
	// PromoteFrom is the environment whose deployments this one takes
	// artifacts from (phoenix.yaml's promote_from): only an artifact that
	// ran there may be deployed here (promote.go); "" takes any.
	PromoteFrom string `json:"promote_from,omitempty"`
	ActiveID    int64  `json:"active_deployment,omitempty"`
	// LiveSince is when the active deployment went live here: its last
	// activation (a rollback to it counts); nil without one.
	LiveSince *time.Time `json:"live_since,omitempty"`
}

// EnvSpec is how an environment is declared (from phoenix.yaml or the API).
type EnvSpec struct {
	Name      string
	Kind      string // "" means standard; "preview" for per-release previews
	Locked    bool
	Approvals int
	Domains   []string
	IPAllow   []string // CIDR prefixes or single addresses; empty allows everyone
	// PromoteFrom names the environment of the same project an artifact
	// must have run on before it is deployed here; "" for none.
	PromoteFrom string
}

var slug = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// CheckName reports whether s is usable as a project or environment name:
// a DNS label, since it becomes part of a host name.
func CheckName(what, s string) error {
	if !slug.MatchString(s) {
		return usererr.New(usererr.Invalid, "%s name %q is not a DNS label", what, s).
			WithHint("use lowercase letters, digits and '-', at most 63 characters, e.g. production")
	}
	return nil
}

// EnsureProject creates the project if it does not exist.
func (s *Service) EnsureProject(ctx context.Context, name string) error {
	if err := CheckName("project", name); err != nil {
		return err
	}
	_, err := s.opts.DB.ExecContext(ctx,
		`INSERT INTO projects (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, s.now())
	if err != nil {
		return fmt.Errorf("deploy: create project %s: %w", name, err)
	}
	return nil
}

// EnsureEnvironment creates the environment, or updates its settings.
func (s *Service) EnsureEnvironment(ctx context.Context, project string, spec EnvSpec) error {
	if err := CheckName("environment", spec.Name); err != nil {
		return err
	}
	if err := s.EnsureProject(ctx, project); err != nil {
		return err
	}
	kind := spec.Kind
	if kind == "" {
		kind = "standard"
	}
	allow, err := ParseAllowList(spec.IPAllow)
	if err != nil {
		return err
	}
	if err := checkPromoteFrom(spec); err != nil {
		return err
	}
	if kind == "preview" {
		if err := s.admitPreview(ctx, project, spec.Name); err != nil {
			return err
		}
	}
	var moved bool // the edge must route or admit differently
	err = s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		domains, err := s.checkDomains(ctx, tx, project, spec.Name, spec.Domains) // domains.go
		if err != nil {
			return err
		}
		if moved, err = edgeSettingsChange(ctx, tx, project, spec.Name, strings.Join(domains, ","), joinPrefixes(allow)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO environments
		(project, name, kind, locked, approvals, domains, ip_allow, promote_from, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (project, name) DO UPDATE SET kind = $3, locked = $4, approvals = $5, domains = $6, ip_allow = $7, promote_from = $8`,
			project, spec.Name, kind, spec.Locked, spec.Approvals, strings.Join(domains, ","), joinPrefixes(allow), spec.PromoteFrom, s.now())
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, Event{Action: "env.save", Project: project, Environment: spec.Name,
			Detail: envDetail(kind, spec, domains, allow)})
	})
	var ue *usererr.Error
	if errors.As(err, &ue) {
		return err
	}
	if err != nil {
		return fmt.Errorf("deploy: save environment %s/%s: %w", project, spec.Name, err)
	}
	if moved {
		s.notifyPolicy(project) // the edge applies new domains and allow-lists at once
	}
	return nil
}

// edgeSettingsChange reports whether saving an environment with these
// domains and allow-list changes what the edge serves: a new environment
// (its names answer "nothing deployed yet"), or a new host name or
// allow-list of one that exists already.
func edgeSettingsChange(ctx context.Context, tx *sql.Tx, project, env, domains, allow string) (bool, error) {
	var curDomains, curAllow string
	err := tx.QueryRowContext(ctx, `SELECT domains, ip_allow FROM environments WHERE project = $1 AND name = $2`, project, env).
		Scan(&curDomains, &curAllow)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return curDomains != domains || curAllow != allow, nil
}

const envColumns = `project, name, kind, locked, approvals, domains, ip_allow, promote_from, COALESCE(active_id, 0), live_since`

func scanEnv(row interface{ Scan(...any) error }) (Environment, error) {
	var e Environment
	var domains, allow, live string
	err := row.Scan(&e.Project, &e.Name, &e.Kind, &e.Locked, &e.Approvals, &domains, &allow, &e.PromoteFrom, &e.ActiveID, &live)
	if e.ActiveID != 0 {
		e.LiveSince = parseTime(live)
	}
	if domains != "" {
		e.Domains = strings.Split(domains, ",")
	}
	if allow != "" {
		e.IPAllow = strings.Split(allow, ",")
	}
	return e, err
}

// Environment returns one environment.
func (s *Service) Environment(ctx context.Context, project, name string) (Environment, error) {
	e, err := scanEnv(s.opts.DB.QueryRowContext(ctx,
		`SELECT `+envColumns+` FROM environments WHERE project = $1 AND name = $2`, project, name))
	if errors.Is(err, sql.ErrNoRows) {
		return e, usererr.New(usererr.NotFound, "no environment %q in project %q", name, project).WithHint("%s", s.envHint(ctx, project, name))
	}
	return e, err
}

// envHint is the hint of a missing environment name of project: the
// project's environments, the closest first when name looks like a typo
// of one (prod for production), and how one comes to exist.
func (s *Service) envHint(ctx context.Context, project, name string) string {
	const exists = "an environment exists once a deploy or release has gone to it, with phoenix.yaml declaring it"
	envs, err := s.Environments(ctx, project)
	if err != nil || len(envs) == 0 {
		return "list them with 'phoenix projects'; " + exists
	}
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
	}
	hint := "its environments: " + strings.Join(names, ", ") + "; " + exists
	if best := suggest.Best(name, names); best != "" {
		hint = "did you mean " + best + "? " + hint
	}
	return hint
}

// Environments lists a project's environments ("" lists every project's).
func (s *Service) Environments(ctx context.Context, project string) ([]Environment, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT `+envColumns+` FROM environments
		WHERE $1 = '' OR project = $1 ORDER BY project, name`, project)
	if err != nil {
		return nil, fmt.Errorf("deploy: list environments: %w", err)
	}
	defer rows.Close()
	var out []Environment
	for rows.Next() {
		e, err := scanEnv(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteEnvironment removes an environment and its history. A locked
// environment (the seed's CanNotDelete lock) is refused.
func (s *Service) DeleteEnvironment(ctx context.Context, project, name string) error {
	e, err := s.Environment(ctx, project, name)
	if err != nil {
		return err
	}
	if e.Locked {
		return usererr.New(usererr.Conflict, "environment %s/%s is locked against deletion", project, name).
			WithHint("remove protection.lock from phoenix.yaml first")
	}
	return s.deleteEnv(ctx, project, name, "")
}

// deleteEnv deletes an environment, audited as env.delete with detail
// (why the server deleted it; "" for one deleted by a user), and tells
// the delete listeners (the edge stops serving it).
func (s *Service) deleteEnv(ctx context.Context, project, name, detail string) error {
	err := s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`UPDATE environments SET active_id = NULL WHERE project = $1 AND name = $2`,
			`DELETE FROM deployments WHERE project = $1 AND environment = $2`,
			`DELETE FROM environments WHERE project = $1 AND name = $2`,
		} {
			if _, err := tx.ExecContext(ctx, q, project, name); err != nil {
				return fmt.Errorf("deploy: delete environment %s/%s: %w", project, name, err)
			}
		}
		// The activations stay for reports; this row ends them for the
		// History of an environment of that name declared again.
		if _, err := tx.ExecContext(ctx, `INSERT INTO deploy_events (project, environment, action, at) VALUES ($1, $2, 'delete', $3)`,
			project, name, s.now()); err != nil {
			return fmt.Errorf("deploy: delete environment %s/%s: %w", project, name, err)
		}
		return s.audit(ctx, tx, Event{Action: "env.delete", Project: project, Environment: name, Detail: detail})
	})
	if err != nil {
		return err
	}
	for _, l := range listenersOf(s, &s.deleteListeners) {
		l(project, name)
	}
	return nil
}

// ParseAllowList checks an environment's client address ranges: CIDR
// prefixes (10.0.0.0/8, 2001:db8::/32) or single addresses.
func ParseAllowList(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, ok := ParseRange(s)
		if !ok {
			return nil, usererr.New(usererr.Invalid, "ip_allow[%d]: %q is neither an address nor a CIDR range", i, strings.TrimSpace(s)).
				WithHint("write e.g. 203.0.113.0/24 or 2001:db8::1")
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseRange reads a client address range as the edge matches it: a CIDR
// prefix or a single address, masked, an IPv4-mapped IPv6 range
// (::ffff:203.0.113.0/120) turned into its IPv4 range (the edge sees
// clients unmapped, so a mapped range would never match).
func ParseRange(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, false // wider than the mapped block: not an IPv4 range
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// envDetail is env.save's audit detail, for people: "kind standard,
// locked no, approvals 1, domains www.example.com, shop.example.com, ip
// allow any", then ", promote from staging" when it promotes from one.
func envDetail(kind string, spec EnvSpec, domains []string, allow []netip.Prefix) string {
	locked := map[bool]string{false: "no", true: "yes"}[spec.Locked]
	detail := fmt.Sprintf("kind %s, locked %s, approvals %d, domains %s, ip allow %s", kind, locked, spec.Approvals,
		listed(domains, "none"), listed(prefixStrings(allow), "any"))
	if spec.PromoteFrom != "" {
		detail += ", promote from " + spec.PromoteFrom
	}
	return detail
}

// listed is items as a person lists them ("a, b"), or none when there
// are none.
func listed(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}

func prefixStrings(ps []netip.Prefix) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return s
}

func joinPrefixes(ps []netip.Prefix) string { return strings.Join(prefixStrings(ps), ",") }
