package api

import (
	"bytes"
	"io"
	"net/http"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// maxEdgePolicy bounds a policy upload (a phoenix.yaml is at most 1 MiB).
const maxEdgePolicy = config.MaxFileSize

func (a *API) edgeRoutes() []Route {
	const tag = "deployments"
	p := "/api/v1/projects/{project}/edge"
	return []Route{
		{Method: "GET", Path: p, Tag: tag, Perm: auth.Read, Summary: "A project's edge policy (phoenix.yaml's edge: section); {} for none",
			Response: config.Edge{}, Handler: a.getEdge},
		{Method: "PUT", Path: p, Tag: tag, Perm: auth.Deploy, Action: "edge.save",
			Summary: "Set a project's edge policy: header rules, rate limit, firewall ({} clears it; changing it needs env.write, sending it unchanged needs deploy)",
			Request: config.Edge{}, Response: config.Edge{}, Handler: a.putEdge},
	}
}

func (a *API) getEdge(w http.ResponseWriter, r *http.Request) {
	e, err := a.opts.Deploy.EdgePolicy(r.Context(), r.PathValue("project"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	writeEdge(w, e)
}

// writeEdge answers a policy in its stored form, {} for none.
func writeEdge(w http.ResponseWriter, e *config.Edge) {
	if e.IsZero() {
		WriteJSON(w, http.StatusOK, struct{}{})
		return
	}
	WriteJSON(w, http.StatusOK, e)
}

func (a *API) putEdge(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEdgePolicy))
	if err != nil {
		WriteError(w, r, usererr.Wrap(usererr.Invalid, err, "request body: "+err.Error()))
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		WriteError(w, r, usererr.New(usererr.Invalid, "request body: empty").WithHint("send the edge: section as JSON; {} clears the policy"))
		return
	}
	e, err := config.ParseEdge(body, "request body")
	if err != nil {
		WriteError(w, r, usererr.Wrap(usererr.Invalid, err, err.Error()).WithHint("the body is phoenix.yaml's edge: section as JSON; check it with phoenix validate"))
		return
	}
	project := r.PathValue("project")
	same, err := a.sameEdge(r, project, e)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if same {
		writeEdge(w, e) // unchanged: nothing to write or audit
		return
	}
	if !a.require(w, r, auth.EnvWrite, auth.Resource{Project: project}) {
		return
	}
	if _, err := a.opts.Deploy.SetEdgePolicy(r.Context(), project, e, ""); err != nil {
		WriteError(w, r, err)
		return
	}
	writeEdge(w, e)
}

// sameEdge reports whether e is project's stored policy (a project not
// created yet has none).
func (a *API) sameEdge(r *http.Request, project string, e *config.Edge) (bool, error) {
	cur, err := a.opts.Deploy.EdgePolicy(r.Context(), project)
	if usererr.KindOf(err) == usererr.NotFound {
		return e.IsZero(), nil
	}
	if err != nil {
		return false, err
	}
	c1, err := cur.Canonical()
	if err != nil {
		return false, err
	}
	c2, err := e.Canonical()
	return bytes.Equal(c1, c2), err
}
