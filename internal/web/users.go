package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
)

type usersData struct {
	Users []auth.User
	Roles []auth.Role
	Me    string // the signed-in user, whose own password form asks for the current one
}

// users lists users with their grants and the roles there are; the API
// lets only users.manage list them. Anyone else sees the form that sets
// their own password.
func (d *Dashboard) users(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Users", "users"
	data := &usersData{Me: v.User.User}
	v.Data = data
	if !v.Can(string(auth.UsersAdmin), "", "") {
		v.Title = "Your password"
		return "users", nil
	}
	var err error
	if data.Users, err = callAll[auth.User](d, r, s, "/api/v1/users", nil); err != nil {
		return "", err
	}
	var roles api.Page[auth.Role]
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/roles", nil, &roles); err != nil {
		return "", err
	}
	data.Roles = roles.Items
	v.Data = data
	return "users", nil
}

// addUser creates a user with one grant (a role everywhere, in a project
// or in one environment of it) and an optional password.
func (d *Dashboard) addUser(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	f := r.PostForm
	req := api.UserRequest{Name: strings.TrimSpace(f.Get("name")), Password: f.Get("password")}
	if role := f.Get("role"); role != "" {
		req.Grants = []auth.Grant{{Role: role, Project: strings.TrimSpace(f.Get("project")), Environment: strings.TrimSpace(f.Get("environment"))}}
	}
	var u auth.User
	if _, err := d.call(r, s, http.MethodPost, "/api/v1/users", req, &u); err != nil {
		return "", "", err
	}
	return "/ui/users", "User " + u.Name + " added.", nil
}

// setPassword sets a user's password from the form: anyone's with
// users.manage, else your own with the current one (the API checks both).
// Neither field is ever written back into a page or a log.
func (d *Dashboard) setPassword(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	name := r.PathValue("name")
	f := r.PostForm
	if f.Get("password") != f.Get("confirm") {
		return "", "", &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: "the two new passwords differ",
			Hint: "type the same new password in both boxes"}
	}
	req := api.PasswordRequest{Password: f.Get("password"), Current: f.Get("current")}
	if _, err := d.call(r, s, http.MethodPut, "/api/v1/users/"+url.PathEscape(name)+"/password", req, nil); err != nil {
		return "", "", err
	}
	return "/ui/users", "Password of " + name + " set.", nil
}

// setDisabled disables or enables a user (the form's disabled: true or false).
func (d *Dashboard) setDisabled(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	name := r.PathValue("name")
	req := api.DisabledRequest{Disabled: r.PostForm.Get("disabled") == "true"}
	if _, err := d.call(r, s, http.MethodPut, "/api/v1/users/"+url.PathEscape(name)+"/disabled", req, nil); err != nil {
		return "", "", err
	}
	if req.Disabled {
		return "/ui/users", name + " disabled: their sessions ended and their tokens are refused.", nil
	}
	return "/ui/users", name + " enabled.", nil
}

// setGrants replaces a user's grants with the form's, one a line.
func (d *Dashboard) setGrants(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	name := r.PathValue("name")
	grants, err := parseGrants(r.PostForm.Get("grants"))
	if err != nil {
		return "", "", &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: err.Error(),
			Hint: "one grant a line: ROLE, then optionally project=NAME and env=NAME, e.g. contributor project=shop env=staging"}
	}
	var u auth.User
	if _, err := d.call(r, s, http.MethodPut, "/api/v1/users/"+url.PathEscape(name)+"/grants", api.GrantsRequest{Grants: grants}, &u); err != nil {
		return "", "", err
	}
	return "/ui/users", "Roles of " + u.Name + " set.", nil
}

// maxGrants bounds the grants one form may set.
const maxGrants = 100

// parseGrants reads grants one a line: "ROLE [project=NAME] [env=NAME]";
// blank lines are skipped. Names are checked by the API.
func parseGrants(text string) ([]auth.Grant, error) {
	out := []auth.Grant{}
	for i, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(out) == maxGrants {
			return nil, fmt.Errorf("grants: more than %d lines", maxGrants)
		}
		g := auth.Grant{Role: fields[0]}
		if strings.Contains(g.Role, "=") {
			return nil, fmt.Errorf("grants line %d: %q: start with the role's name", i+1, fields[0])
		}
		for _, f := range fields[1:] {
			k, val, ok := strings.Cut(f, "=")
			switch {
			case ok && k == "project" && g.Project == "" && val != "":
				g.Project = val
			case ok && (k == "env" || k == "environment") && g.Environment == "" && val != "":
				g.Environment = val
			default:
				return nil, fmt.Errorf("grants line %d: %q: want project=NAME or env=NAME, each once", i+1, f)
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// grantLines shows grants as parseGrants reads them.
func grantLines(gs []auth.Grant) string {
	var b strings.Builder
	for _, g := range gs {
		b.WriteString(g.Role)
		if g.Project != "" {
			b.WriteString(" project=" + g.Project)
		}
		if g.Environment != "" {
			b.WriteString(" env=" + g.Environment)
		}
		b.WriteString("\n")
	}
	return b.String()
}
