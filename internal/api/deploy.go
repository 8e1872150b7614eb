package api

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// maxManifest bounds a manifest upload (a 20,000-file site is ~4 MiB).
const maxManifest = 64 << 20

func (a *API) deployRoutes() []Route {
	const tag = "deployments"
	envPath := "/api/v1/projects/{project}/environments/{env}"
	return []Route{
		a.projectsRoute(),
		{Method: "GET", Path: "/api/v1/projects/{project}/environments", Tag: tag, Perm: auth.Read,
			Summary: "List the project's environments the caller may read", Response: Page[envOut]{}, Handler: a.listEnvs},
		{Method: "PUT", Path: envPath, Tag: tag, Perm: auth.Deploy, Action: "env.save",
			Summary: "Declare an environment (changing one needs env.write; re-declaring it unchanged needs deploy)",
			Request: EnvRequest{}, Response: deploy.Environment{}, Handler: a.putEnv},
		{Method: "DELETE", Path: envPath, Tag: tag, Perm: auth.EnvWrite, Action: "env.delete", Status: http.StatusNoContent,
			Summary: "Delete an environment and its history (refused when locked)", Handler: a.deleteEnv},
		{Method: "GET", Path: envPath + "/deployments", Tag: tag, Perm: auth.Read, Query: pageParams,
			Summary: "An environment's deployments, newest first", Response: Page[deploy.Deployment]{}, Handler: a.listDeployments},
		{Method: "GET", Path: envPath + "/activations", Tag: tag, Perm: auth.Read, Query: pageParams,
			Summary:  "What the environment served when: its deploys and rollbacks, newest first, each with until when it was live",
			Response: Page[deploy.EnvActivation]{}, Handler: a.listActivations},
		{Method: "POST", Path: envPath + "/rollback", Tag: tag, Perm: auth.Deploy, Action: "deploy.rollback",
			Summary: "Re-point the environment at an earlier deployment", Request: RollbackRequest{}, Response: DeploymentResponse{},
			Handler: a.rollback},
		{Method: "POST", Path: "/api/v1/projects/{project}/uploads", Tag: tag, Perm: auth.Deploy, Action: "deploy.upload",
			Summary: "Start (or resume) an upload: send the manifest, get the missing blobs", Request: "manifest JSON",
			Response: deploy.Upload{}, Handler: a.beginUpload},
		{Method: "PUT", Path: "/api/v1/uploads/{id}/blobs/{digest}", Tag: tag, Perm: auth.Deploy, Resource: a.uploadResource,
			Summary: "Upload one blob of an open upload", Request: []byte{}, Status: http.StatusNoContent, Handler: a.putBlob},
		{Method: "POST", Path: "/api/v1/uploads/{id}/finalize", Tag: tag, Perm: auth.Deploy, Resource: a.uploadResource,
			Action: "deploy.activate", Summary: "Verify, sign, record and activate an upload on an environment",
			Request: FinalizeRequest{}, Response: DeploymentResponse{}, Status: http.StatusCreated, Handler: a.finalize},
		{Method: "POST", Path: "/api/v1/gc", Tag: tag, Perm: auth.GC, Action: "deploy.gc",
			Summary: "Apply retention (deployments and pipeline runs) and delete unreferenced blobs", Response: GCResponse{},
			Handler: a.collect},
	}
}

// uploadResource is the project of the upload in the path.
func (a *API) uploadResource(r *http.Request) (auth.Resource, error) {
	p, err := a.opts.Deploy.UploadProject(r.Context(), r.PathValue("id"))
	return auth.Resource{Project: p}, err
}

type envOut struct {
	deploy.Environment
	URL string `json:"url"`
}

func (a *API) listEnvs(w http.ResponseWriter, r *http.Request) {
	envs, err := a.opts.Deploy.Environments(r.Context(), r.PathValue("project"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	pr := PrincipalFrom(r.Context())
	out := make([]envOut, 0, len(envs))
	for _, e := range envs {
		if pr.Can(auth.Read, auth.Resource{Project: e.Project, Environment: e.Name}) { // as /api/v1/projects does
			out = append(out, envOut{e, a.url(e.Project, e.Name)})
		}
	}
	WriteJSON(w, http.StatusOK, Page[envOut]{Items: out})
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
	IPAllow   []string `json:"ip_allow,omitempty"` // client CIDR ranges allowed in; empty allows everyone
	// PromoteFrom names the environment an artifact must have run on
	// before it is deployed here (phoenix.yaml's promote_from).
	PromoteFrom string `json:"promote_from,omitempty"`
}

// same reports whether req declares e exactly as it is.
func (req EnvRequest) same(e deploy.Environment) bool {
	kind := req.Kind
	if kind == "" {
		kind = "standard"
	}
	return kind == e.Kind && req.Locked == e.Locked && req.Approvals == e.Approvals && slices.Equal(req.Domains, e.Domains) &&
		sameAllowList(req.IPAllow, e.IPAllow) && req.PromoteFrom == e.PromoteFrom
}

// sameAllowList compares a requested allow-list with a stored (normalized) one.
func sameAllowList(req, stored []string) bool {
	ps, err := deploy.ParseAllowList(req)
	if err != nil || len(ps) != len(stored) {
		return false
	}
	for i, p := range ps {
		if p.String() != stored[i] {
			return false
		}
	}
	return true
}

func (a *API) putEnv(w http.ResponseWriter, r *http.Request) {
	var req EnvRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	p, e := r.PathValue("project"), r.PathValue("env")
	if req.Kind == "preview" { // a preview deploy starts here, so phoenix.yaml turning previews off refuses it
		if err := a.opts.Deploy.PreviewAllowed(r.Context(), p); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	cur, err := a.opts.Deploy.Environment(r.Context(), p, e)
	if err != nil && usererr.KindOf(err) != usererr.NotFound {
		WriteError(w, r, err)
		return
	}
	if err == nil && req.same(cur) {
		WriteJSON(w, http.StatusOK, cur) // unchanged: nothing to write or audit
		return
	}
	if !a.require(w, r, auth.EnvWrite, auth.Resource{Project: p, Environment: e}) {
		return
	}
	spec := deploy.EnvSpec{Name: e, Kind: req.Kind, Locked: req.Locked, Approvals: req.Approvals, Domains: req.Domains, IPAllow: req.IPAllow,
		PromoteFrom: req.PromoteFrom}
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

// maxHistory bounds one read of a history; retention keeps it far smaller.
const maxHistory = 100000

func (a *API) listDeployments(w http.ResponseWriter, r *http.Request) {
	deps, err := a.opts.Deploy.Deployments(r.Context(), r.PathValue("project"), r.PathValue("env"), maxHistory)
	pageByID(w, r, deps, err, func(d deploy.Deployment) int64 { return d.ID })
}

func (a *API) listActivations(w http.ResponseWriter, r *http.Request) {
	hist, err := a.opts.Deploy.History(r.Context(), r.PathValue("project"), r.PathValue("env"), maxHistory)
	pageByID(w, r, hist, err, func(a deploy.EnvActivation) int64 { return a.ID })
}

// pageByID answers the page of items (newest first, by descending id)
// the request asks for: its cursor is the last id of the page before;
// err, if any, is answered instead.
func pageByID[T any](w http.ResponseWriter, r *http.Request, items []T, err error, id func(T) int64) {
	pg, perr := readPage(r)
	if err == nil {
		err = perr
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	before := int64(-1)
	if pg.cursor != "" {
		if before, err = strconv.ParseInt(pg.cursor, 10, 64); err != nil {
			WriteError(w, r, badCursor(pg.cursor))
			return
		}
	}
	WriteJSON(w, http.StatusOK, paginate(items, pg, func(it T) string { return strconv.FormatInt(id(it), 10) },
		func(it T) bool { return before < 0 || id(it) < before }))
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
	d, err := a.opts.Deploy.Rollback(r.Context(), r.PathValue("project"), r.PathValue("env"), req.To, PrincipalFrom(r.Context()).User)
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
	if a.opts.Audit != nil {
		_, err := a.opts.Audit.Append(r.Context(), audit.Event{Action: "deploy.upload", Target: up.Project,
			Detail: fmt.Sprintf("upload %s of artifact %s, %d blob(s) missing", up.ID, up.Digest, len(up.Missing))})
		if err != nil {
			WriteError(w, r, fmt.Errorf("api: audit upload: %w", err))
			return
		}
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
	res, _ := a.uploadResource(r)
	res.Environment = req.Environment
	if req.Environment == "" {
		WriteError(w, r, usererr.New(usererr.Invalid, "finalize: no environment").WithHint("send {\"environment\": \"staging\"}"))
		return
	}
	if !a.require(w, r, auth.Deploy, res) {
		return
	}
	d, err := a.opts.Deploy.Finalize(r.Context(), r.PathValue("id"),
		deploy.FinalizeOptions{Environment: req.Environment, Message: req.Message, Actor: PrincipalFrom(r.Context()).User})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, DeploymentResponse{Deployment: *d, URL: a.url(d.Project, d.Environment)})
}

// GCResponse is what POST /api/v1/gc removed: deployments, artifacts,
// uploads and blobs, then pipeline runs and their folders on this server.
type GCResponse struct {
	deploy.GCStats
	pipeline.PruneStats
}

func (a *API) collect(w http.ResponseWriter, r *http.Request) {
	var out GCResponse
	var err error
	if out.GCStats, err = a.opts.Deploy.CollectGarbage(r.Context()); err != nil {
		WriteError(w, r, err)
		return
	}
	if a.opts.Pipeline != nil {
		if out.PruneStats, err = a.opts.Pipeline.Prune(r.Context()); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	WriteJSON(w, http.StatusOK, out)
}
