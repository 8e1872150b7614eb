package auth

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Permission is one thing a role allows.
type Permission string

// The permissions. The first four apply per environment (a grant may
// limit them to one project or environment); the rest are global and come
// only from grants without a project or environment.
const (
	Read       Permission = "read"         // see projects, environments, deployments
	Deploy     Permission = "deploy"       // upload, deploy, roll back
	Approve    Permission = "approve"      // approve releases into protected environments
	EnvWrite   Permission = "env.write"    // create, change, delete environments
	Tokens     Permission = "tokens"       // create, list and revoke one's own tokens
	AuditRead  Permission = "audit.read"   // read, export and verify the audit log
	UsersAdmin Permission = "users.manage" // add users, grant roles, set passwords, revoke anyone's token
	GC         Permission = "gc"           // run retention and blob garbage collection
	Backup     Permission = "backup"       // take and list backups of the server's state
	// The vault's permissions gate its endpoints; the vault's own access
	// policy then decides per secret name (docs/vault.md).
	SecretsList  Permission = "secrets.list"  // list secrets and their metadata (never values)
	SecretsRead  Permission = "secrets.read"  // read secret values
	SecretsWrite Permission = "secrets.write" // set, rotate, disable, delete, recover, purge, import
	VaultManage  Permission = "vault.manage"  // initialize, unseal and seal the vault; command rotation hooks
	// All stands for every permission, in a role or a token's scopes.
	All Permission = "*"
)

// Permissions lists every permission, environment-scoped ones first.
var Permissions = []Permission{Read, Deploy, Approve, EnvWrite, Tokens, AuditRead, UsersAdmin, GC, Backup,
	SecretsList, SecretsRead, SecretsWrite, VaultManage}

// Scoped reports whether p applies per environment.
func (p Permission) Scoped() bool { return p == Read || p == Deploy || p == Approve || p == EnvWrite }

func knownPermission(p Permission) bool { return p == All || slices.Contains(Permissions, p) }

// Role is a named set of permissions.
type Role struct {
	Name        string       `json:"name" yaml:"-"`
	Description string       `json:"description,omitempty" yaml:"description"`
	Permissions []Permission `json:"permissions" yaml:"permissions"`
	BuiltIn     bool         `json:"built_in" yaml:"-"`
}

// Has reports whether the role allows p.
func (r Role) Has(p Permission) bool {
	return slices.Contains(r.Permissions, All) || slices.Contains(r.Permissions, p)
}

// Built-in role names.
const (
	RoleAdmin       = "admin"
	RoleContributor = "contributor"
	RoleViewer      = "viewer"
	RoleApprover    = "approver"
)

// BuiltInRoles are the roles every server knows.
func BuiltInRoles() []Role {
	return []Role{
		{Name: RoleAdmin, Description: "everything, including users, tokens and the audit log", Permissions: []Permission{All}, BuiltIn: true},
		{Name: RoleContributor, Description: "deploy and roll back", Permissions: []Permission{Read, Deploy, Tokens}, BuiltIn: true},
		{Name: RoleApprover, Description: "approve releases into protected environments", Permissions: []Permission{Read, Approve, Tokens}, BuiltIn: true},
		{Name: RoleViewer, Description: "read only", Permissions: []Permission{Read, Tokens}, BuiltIn: true},
	}
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,62}$`)

// rolesFile is the shape of a roles file.
type rolesFile struct {
	Roles map[string]Role `yaml:"roles"`
}

// ParseRoles reads roles defined in configuration:
//
//	roles:
//	  release-manager:
//	    description: deploys and approves
//	    permissions: [read, deploy, approve]
//
// Unknown keys, unknown permissions and names that clash with a built-in
// role are errors naming the role and field.
func ParseRoles(name string, data []byte) ([]Role, error) {
	var f rolesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []Role
	for n, r := range f.Roles {
		r.Name = n
		if err := checkRole(r); err != nil {
			return nil, fmt.Errorf("%s: roles.%s: %w", name, n, err)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func checkRole(r Role) error {
	if !nameRE.MatchString(r.Name) {
		return fmt.Errorf("role name %q: use lowercase letters, digits, '.', '_' or '-'", r.Name)
	}
	for _, b := range BuiltInRoles() {
		if b.Name == r.Name {
			return fmt.Errorf("%q is a built-in role; pick another name", r.Name)
		}
	}
	if len(r.Permissions) == 0 {
		return fmt.Errorf("permissions: empty; list some of %s", permList())
	}
	for _, p := range r.Permissions {
		if !knownPermission(p) {
			return fmt.Errorf("permissions: unknown permission %q (known: %s)", p, permList())
		}
	}
	return nil
}

func permList() string {
	s := make([]string, len(Permissions))
	for i, p := range Permissions {
		s[i] = string(p)
	}
	return strings.Join(s, ", ") + ", *"
}
