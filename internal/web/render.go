package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// view is what every page's template gets: the layout's parts and the
// page's own Data.
type view struct {
	Title   string
	Nav     string          // the section the page belongs to, marked current
	User    *auth.Principal // nil on the sign-in and error pages
	CSRF    string          // echoed by every form that changes state
	Flash   string          // the outcome of the last action
	Version string
	Health  string // the API's health: ok or degraded
	Data    any
}

// Can reports whether the user may do perm on project/env; buttons the
// user may not use are hidden (the API still refuses them).
func (v *view) Can(perm, project, env string) bool {
	return v.User != nil && v.User.Can(auth.Permission(perm), auth.Resource{Project: project, Environment: env})
}

// CanEvery is Can on each of a project's environments, or on the
// project when there are none (a run that only builds or tests).
func (v *view) CanEvery(perm, project string, envs []string) bool {
	if len(envs) == 0 {
		return v.Can(perm, project, "")
	}
	for _, env := range envs {
		if !v.Can(perm, project, env) {
			return false
		}
	}
	return true
}

// CanMonitor is Can on a monitor's environment name, "<env>.<project>";
// the empty name (every environment) needs env.write on the server, as
// silencing everything does.
func (v *view) CanMonitor(perm, name string) bool {
	if monitor.ServerInstance(name) { // everywhere, the host, a certificate
		return v.Can(string(auth.EnvWrite), "", "")
	}
	env, project, _ := strings.Cut(name, ".")
	return v.Can(perm, project, env)
}

// pageFunc fills a page's view and names its template.
type pageFunc func(r *http.Request, s session, v *view) (string, error)

// page serves a signed-in page: the user, their permissions and the
// server's health from the API, then the page's own calls.
func (d *Dashboard) page(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := d.sessionOf(r)
		if s.secret == "" {
			d.toLogin(w, r)
			return
		}
		v := &view{}
		err := d.who(r, s, v)
		name := ""
		if err == nil {
			name, err = fn(r, s, v)
		}
		v.CSRF = s.csrf
		var ae *apiError
		if err != nil && v.User != nil && errors.As(err, &ae) && ae.Status != http.StatusUnauthorized {
			v.Title, v.Data = http.StatusText(ae.Status), errorData{ae, "/"} // with the navigation
			d.render(w, r, ae.Status, "error", v)
			return
		}
		if err != nil {
			d.pageError(w, r, err)
			return
		}
		v.Flash = d.takeFlash(w, r)
		d.render(w, r, http.StatusOK, name, v)
	}
}

// who asks the API who the session belongs to and what its roles allow.
func (d *Dashboard) who(r *http.Request, s session, v *view) error {
	var me auth.Principal
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/me", nil, &me); err != nil {
		return err
	}
	var roles api.Page[auth.Role]
	if _, err := d.call(r, s, http.MethodGet, "/api/v1/roles", nil, &roles); err != nil {
		return err
	}
	v.User = me.WithRoles(roles.Items)
	var health struct{ Status, Version string }
	d.call(r, s, http.MethodGet, "/api/v1/health", nil, &health) // a 503 leaves it empty: shown as degraded
	v.Version, v.Health = health.Version, health.Status
	if v.Health == "" {
		v.Health = "degraded"
	}
	return nil
}

// toLogin sends a browser without a (valid) session to the sign-in page,
// to come back here after.
func (d *Dashboard) toLogin(w http.ResponseWriter, r *http.Request) {
	d.clearSession(w)
	next := "/"
	if r.Method == http.MethodGet {
		next = safeNext(r.URL.RequestURI())
	}
	http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// pageError shows what went wrong: the API's refusal as it said it, an
// expired session as the sign-in page, anything else as a generic error.
func (d *Dashboard) pageError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		d.toLogin(w, r)
		return
	}
	if errors.As(err, &ae) {
		d.render(w, r, ae.Status, "error", &view{Title: http.StatusText(ae.Status), Data: errorData{ae, "/"}})
		return
	}
	d.fail(w, r, err)
}

// errorData is the error page's: the API's answer and where to go back.
type errorData struct {
	*apiError
	Back string
}

// actionError shows why an action was refused, with the navigation and a
// way back to the page whose form it was; nothing changed, so there is
// nothing to redirect away from.
func (d *Dashboard) actionError(w http.ResponseWriter, r *http.Request, s session, ae *apiError) {
	v := &view{Title: http.StatusText(ae.Status), CSRF: s.csrf, Data: errorData{ae, backOf(r.URL.Path)}}
	if err := d.who(r, s, v); err != nil {
		v.User = nil // shown without the navigation
	}
	d.render(w, r, ae.Status, "error", v)
}

// backOf is the page an action's form is on.
func backOf(action string) string {
	switch {
	case strings.HasPrefix(action, "/ui/silences"), strings.HasPrefix(action, "/ui/alerts/"):
		return "/ui/alerts"
	case strings.HasPrefix(action, "/ui/envs/"), strings.HasPrefix(action, "/ui/runs/"):
		return path.Dir(action)
	case strings.HasPrefix(action, "/ui/users"), strings.HasPrefix(action, "/ui/tokens"):
		return "/ui/" + strings.Split(action, "/")[2]
	}
	return "/"
}

// fail logs an internal error and shows a generic page.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	d.opts.Logger.Error("dashboard: request failed", "path", r.URL.Path, "err", err)
	ae := &apiError{Status: http.StatusInternalServerError, Code: "internal",
		Message: "internal error; the server log has the details"}
	d.render(w, r, ae.Status, "error", &view{Title: "Error", Data: errorData{ae, "/"}})
}

func (d *Dashboard) notFound(w http.ResponseWriter, r *http.Request) {
	ae := &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no such page."}
	d.render(w, r, ae.Status, "error", &view{Title: "Not found", Data: errorData{ae, "/"}})
}

// render executes the named page into a buffer first, so a template
// error is a clean 500 rather than half a page.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := d.pages.execute(&buf, name, v); err != nil {
		d.opts.Logger.Error("dashboard: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// actionFunc performs a change through the API and says where to go next
// and what to tell the user there.
type actionFunc func(w http.ResponseWriter, r *http.Request, s session) (redirect, flash string, err error)

// action serves a state-changing form post: the form's CSRF token must
// match the cookie's, then the change goes to the API with that token,
// and a success redirects (POST-redirect-GET). A refusal is shown with
// the API's status and message.
func (d *Dashboard) action(fn actionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := d.checkForm(w, r)
		if !ok {
			return
		}
		to, flash, err := fn(w, r, s)
		if err != nil {
			d.actionFailed(w, r, s, err)
			return
		}
		if flash != "" {
			d.setFlash(w, flash)
		}
		http.Redirect(w, r, to, http.StatusSeeOther) // a path the action built
	}
}

// checkForm reads a form post and checks that it comes from a session and
// carries that session's CSRF token; otherwise it answers (the sign-in
// page, 400 or 403) and reports false.
func (d *Dashboard) checkForm(w http.ResponseWriter, r *http.Request) (session, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		d.pageError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: "The form could not be read."})
		return session{}, false
	}
	s := d.sessionOf(r)
	if s.secret == "" {
		d.toLogin(w, r)
		return s, false
	}
	if !sameToken(r.PostForm.Get("csrf"), s.csrf) {
		d.pageError(w, r, &apiError{Status: http.StatusForbidden, Code: "forbidden",
			Message: "The form expired or did not come from this dashboard.", Hint: "reload the page and try again"})
		return s, false
	}
	return s, true
}

// actionFailed shows why an action did not happen: the API's refusal
// with the navigation, an expired session as the sign-in page.
func (d *Dashboard) actionFailed(w http.ResponseWriter, r *http.Request, s session, err error) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status != http.StatusUnauthorized {
		d.actionError(w, r, s, ae)
		return
	}
	d.pageError(w, r, err)
}
