package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// SecretRequest makes a new version of a secret. Value is base64 in JSON.
type SecretRequest struct {
	Value       []byte            `json:"value"`
	Kind        string            `json:"kind,omitempty"` // secret (default), certificate (a PEM bundle) or signing-key
	ContentType string            `json:"content_type,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"` // replaces the secret's tags when present
	NotBefore   time.Time         `json:"not_before,omitzero"`
	ExpiresAt   time.Time         `json:"expires_at,omitzero"`
	Production  *bool             `json:"production,omitempty"`
}

// SecretValue is the one response that carries a value (base64 in JSON).
type SecretValue struct {
	vault.VersionInfo
	Value []byte `json:"value"`
}

// VersionRequest enables or disables one version.
type VersionRequest struct {
	Enabled bool `json:"enabled"`
}

// TagsRequest replaces a secret's tags.
type TagsRequest struct {
	Tags map[string]string `json:"tags"`
}

// RotationRequest sets a secret's rotation policy; a null policy removes it.
type RotationRequest struct {
	Policy *vault.RotationPolicy `json:"policy"`
}

// DeleteSecretResponse says what a delete did.
type DeleteSecretResponse struct {
	Name       string    `json:"name"`
	Purged     bool      `json:"purged"`
	PurgeAfter time.Time `json:"purge_after,omitzero"`
}

func (a *API) secretRoutes() []Route {
	const tag = "vault"
	one := "/api/v1/secrets/{name}"
	return []Route{
		{Method: "GET", Path: "/api/v1/secrets", Tag: tag, Perm: auth.SecretsList,
			Query:   []Param{boolParam("deleted", "true: list deleted, still recoverable secrets"), textParam("match", "only names matching this glob")},
			Summary: "Secrets the caller may list: names and metadata, never values", Response: Page[vault.Info]{},
			Handler: a.listSecrets},
		{Method: "GET", Path: one, Tag: tag, Perm: auth.SecretsList,
			Summary: "A secret's metadata", Response: vault.Info{}, Handler: a.describeSecret},
		{Method: "PUT", Path: one, Tag: tag, Perm: auth.SecretsWrite, Action: "secret.write",
			Summary: "Store a new version of a secret", Request: SecretRequest{}, Response: vault.VersionInfo{},
			Status: http.StatusCreated, Handler: a.setSecret},
		{Method: "DELETE", Path: one, Tag: tag, Perm: auth.SecretsWrite, Action: "secret.delete",
			Query:    []Param{boolParam("purge", "true: remove a deleted secret and all its versions for good")},
			Summary:  "Delete a secret (recoverable until its recovery window ends), or purge a deleted one",
			Response: DeleteSecretResponse{}, Handler: a.deleteSecret},
		{Method: "GET", Path: one + "/versions", Tag: tag, Perm: auth.SecretsList,
			Summary: "A secret's versions, newest first", Response: []vault.VersionInfo{}, Handler: a.secretHistory},
		{Method: "PATCH", Path: one + "/versions/{version}", Tag: tag, Perm: auth.SecretsWrite, Action: "secret.enable",
			Summary: "Enable or disable one version", Request: VersionRequest{}, Status: http.StatusNoContent,
			Handler: a.setSecretVersion},
		{Method: "GET", Path: one + "/value", Tag: tag, Perm: auth.SecretsRead,
			Query:   []Param{numberParam("version", "the version (default: the newest enabled, valid one)")},
			Summary: "A secret's value: the only endpoint that returns one (never cached)", Response: SecretValue{},
			Handler: a.readSecret},
		{Method: "PUT", Path: one + "/tags", Tag: tag, Perm: auth.SecretsWrite, Action: "secret.tags",
			Summary: "Replace a secret's tags", Request: TagsRequest{}, Status: http.StatusNoContent, Handler: a.setSecretTags},
		{Method: "PUT", Path: one + "/rotation", Tag: tag, Perm: auth.SecretsWrite, Action: "secret.rotation",
			Summary: "Set or remove a secret's rotation policy (a command generator also needs vault.manage)",
			Request: RotationRequest{}, Status: http.StatusNoContent, Handler: a.setSecretRotation},
		{Method: "POST", Path: one + "/rotate", Tag: tag, Perm: auth.SecretsWrite, Action: "secret.rotate",
			Summary: "Rotate a secret now with its policy's generator", Response: vault.VersionInfo{},
			Status: http.StatusCreated, Handler: a.rotateSecret},
		{Method: "POST", Path: one + "/recover", Tag: tag, Perm: auth.SecretsWrite, Action: "secret.recover",
			Summary: "Recover a deleted secret", Status: http.StatusNoContent, Handler: a.recoverSecret},
	}
}

func (a *API) listSecrets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	items, err := a.opts.Vault.List(r.Context(), subject(r), vault.ListOptions{Deleted: q.Get("deleted") == "true", Match: q.Get("match")})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, Page[vault.Info]{Items: items})
}

func (a *API) describeSecret(w http.ResponseWriter, r *http.Request) {
	in, err := a.opts.Vault.Describe(r.Context(), subject(r), r.PathValue("name"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, in)
}

func (a *API) setSecret(w http.ResponseWriter, r *http.Request) {
	var req SecretRequest
	if err := decodeLarge(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	val := vault.NewSecret(req.Value)
	clear(req.Value)
	if val.IsZero() {
		WriteError(w, r, usererr.New(usererr.Invalid, "value is empty"))
		return
	}
	o := vault.SetOptions{ContentType: req.ContentType, Tags: req.Tags, NotBefore: req.NotBefore,
		ExpiresAt: req.ExpiresAt, Production: req.Production}
	ctx, subj, name := r.Context(), subject(r), r.PathValue("name")
	var vi vault.VersionInfo
	var err error
	switch req.Kind {
	case "", vault.KindSecret:
		vi, err = a.opts.Vault.Set(ctx, subj, name, val, o)
	case vault.KindCertificate:
		vi, err = a.opts.Vault.SetCertificate(ctx, subj, name, val, o)
	case vault.KindSigningKey:
		o.Kind = vault.KindSigningKey
		if o.ContentType == "" {
			o.ContentType = "application/x-minisign-key"
		}
		vi, err = a.opts.Vault.Set(ctx, subj, name, val, o)
	default:
		err = usererr.New(usererr.Invalid, "kind %q: use secret, certificate or signing-key", req.Kind)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, vi)
}

func (a *API) deleteSecret(w http.ResponseWriter, r *http.Request) {
	ctx, subj, name := r.Context(), subject(r), r.PathValue("name")
	out := DeleteSecretResponse{Name: name}
	var err error
	if r.URL.Query().Get("purge") == "true" {
		err, out.Purged = a.opts.Vault.Purge(ctx, subj, name), true
	} else {
		out.PurgeAfter, err = a.opts.Vault.Delete(ctx, subj, name)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) secretHistory(w http.ResponseWriter, r *http.Request) {
	vs, err := a.opts.Vault.History(r.Context(), subject(r), r.PathValue("name"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, vs)
}

// versionParam reads a positive version number from s; "" is 0.
func versionParam(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, usererr.New(usererr.Invalid, "version %q: want a positive number", s)
	}
	return n, nil
}

func (a *API) setSecretVersion(w http.ResponseWriter, r *http.Request) {
	var req VersionRequest
	v, err := versionParam(r.PathValue("version"))
	if err == nil {
		err = decode(r, &req)
	}
	if err == nil {
		err = a.opts.Vault.SetEnabled(r.Context(), subject(r), r.PathValue("name"), v, req.Enabled)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) readSecret(w http.ResponseWriter, r *http.Request) {
	v, err := versionParam(r.URL.Query().Get("version"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	s, vi, err := a.opts.Vault.Get(r.Context(), subject(r), r.PathValue("name"), v)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	b := s.Bytes()
	defer clear(b)
	w.Header().Set("Pragma", "no-cache")
	WriteJSON(w, http.StatusOK, SecretValue{VersionInfo: vi, Value: b})
}

func (a *API) setSecretTags(w http.ResponseWriter, r *http.Request) {
	var req TagsRequest
	err := decode(r, &req)
	if err == nil {
		if req.Tags == nil {
			req.Tags = map[string]string{}
		}
		err = a.opts.Vault.SetTags(r.Context(), subject(r), r.PathValue("name"), req.Tags)
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) setSecretRotation(w http.ResponseWriter, r *http.Request) {
	var req RotationRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	// A command hook runs on the server: only vault managers may set one.
	if req.Policy != nil && req.Policy.Generator.Type == "command" && !a.require(w, r, auth.VaultManage, auth.Resource{}) {
		return
	}
	if err := a.opts.Vault.SetRotation(r.Context(), subject(r), r.PathValue("name"), req.Policy); err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) rotateSecret(w http.ResponseWriter, r *http.Request) {
	vi, err := a.opts.Vault.Rotate(r.Context(), subject(r), r.PathValue("name"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, vi)
}

func (a *API) recoverSecret(w http.ResponseWriter, r *http.Request) {
	if err := a.opts.Vault.Recover(r.Context(), subject(r), r.PathValue("name")); err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
