package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// maxManifest bounds a manifest upload (a 20,000-file site is ~4 MiB).
const maxManifest = 64 << 20

func (a *API) deployRoutes() {
	a.mux.HandleFunc("GET /api/v1/projects/{project}/environments", a.listEnvs)
	a.mux.HandleFunc("PUT /api/v1/projects/{project}/environments/{env}", a.putEnv)
	a.mux.HandleFunc("DELETE /api/v1/projects/{project}/environments/{env}", a.deleteEnv)
	a.mux.HandleFunc("GET /api/v1/projects/{project}/environments/{env}/deployments", a.listDeployments)
	a.mux.HandleFunc("POST /api/v1/projects/{project}/environments/{env}/rollback", a.rollback)
	a.mux.HandleFunc("POST /api/v1/projects/{project}/uploads", a.beginUpload)
	a.mux.HandleFunc("PUT /api/v1/uploads/{id}/blobs/{digest}", a.putBlob)
	a.mux.HandleFunc("POST /api/v1/uploads/{id}/finalize", a.finalize)
	a.mux.HandleFunc("POST /api/v1/gc", a.collect)
}

// decode reads a JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && err != io.EOF {
		return usererr.Wrap(usererr.Invalid, err, "request body: "+err.Error())
	}
	return nil
}

func (a *API) listEnvs(w http.ResponseWriter, r *http.Request) {
	envs, err := a.opts.Deploy.Environments(r.Context(), r.PathValue("project"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	type envOut struct {
		deploy.Environment
		URL string `json:"url"`
	}
	out := make([]envOut, 0, len(envs))
	for _, e := range envs {
		out = append(out, envOut{e, a.url(e.Project, e.Name)})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (a *API) url(project, env string) string {
	if a.opts.EdgeURL == nil {
		return ""
	}
	return a.opts.EdgeURL(project, env)
}

// EnvRequest declares an environment.
type EnvRequest struct {
	Kind      string   `json:"kind,omitempty"`
	Locked    bool     `json:"locked,omitempty"`
	Approvals int      `json:"approvals,omitempty"`
	Domains   []string `json:"domains,omitempty"`
}

func (a *API) putEnv(w http.ResponseWriter, r *http.Request) {
	var req EnvRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	p, e := r.PathValue("project"), r.PathValue("env")
	spec := deploy.EnvSpec{Name: e, Kind: req.Kind, Locked: req.Locked, Approvals: req.Approvals, Domains: req.Domains}
	if err := a.opts.Deploy.EnsureEnvironment(r.Context(), p, spec); err != nil {
		WriteError(w, r, err)
		return
	}
	env, err := a.opts.Deploy.Environment(r.Context(), p, e)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, env)
}

func (a *API) deleteEnv(w http.ResponseWriter, r *http.Request) {
	if err := a.opts.Deploy.DeleteEnvironment(r.Context(), r.PathValue("project"), r.PathValue("env")); err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listDeployments(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	deps, err := a.opts.Deploy.Deployments(r.Context(), r.PathValue("project"), r.PathValue("env"), limit)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if deps == nil {
		deps = []deploy.Deployment{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": deps})
}

// RollbackRequest names the deployment to return to; 0 means the previous.
type RollbackRequest struct {
	To int64 `json:"to,omitempty"`
}

func (a *API) rollback(w http.ResponseWriter, r *http.Request) {
	var req RollbackRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	d, err := a.opts.Deploy.Rollback(r.Context(), r.PathValue("project"), r.PathValue("env"), req.To, "admin")
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, DeploymentResponse{Deployment: *d, URL: a.url(d.Project, d.Environment)})
}

// DeploymentResponse is a deployment and where it answers.
type DeploymentResponse struct {
	deploy.Deployment
	URL string `json:"url"`
}

func (a *API) beginUpload(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxManifest))
	if err != nil {
		WriteError(w, r, usererr.Wrap(usererr.Invalid, err, "manifest: "+err.Error()))
		return
	}
	up, err := a.opts.Deploy.BeginUpload(r.Context(), r.PathValue("project"), body)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if up.Missing == nil {
		up.Missing = []backend.Digest{}
	}
	WriteJSON(w, http.StatusOK, up)
}

func (a *API) putBlob(w http.ResponseWriter, r *http.Request) {
	d, err := backend.ParseDigest(r.PathValue("digest"))
	if err != nil {
		WriteError(w, r, usererr.Wrap(usererr.Invalid, err, err.Error()))
		return
	}
	if err := a.opts.Deploy.PutBlob(r.Context(), r.PathValue("id"), d, r.Body, r.ContentLength); err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// FinalizeRequest says where an upload goes live.
type FinalizeRequest struct {
	Environment string `json:"environment"`
	Message     string `json:"message,omitempty"`
}

func (a *API) finalize(w http.ResponseWriter, r *http.Request) {
	var req FinalizeRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	d, err := a.opts.Deploy.Finalize(r.Context(), r.PathValue("id"),
		deploy.FinalizeOptions{Environment: req.Environment, Message: req.Message, Actor: "admin"})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, DeploymentResponse{Deployment: *d, URL: a.url(d.Project, d.Environment)})
}

func (a *API) collect(w http.ResponseWriter, r *http.Request) {
	st, err := a.opts.Deploy.CollectGarbage(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}
