package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// The vault's endpoints. Values travel only in request and response
// bodies (base64 in JSON), never in a URL, a log line or an error; the
// master key likewise. Route permissions decide who may use an endpoint at
// all; the vault's access policy then decides per secret name.

// VaultKeyRequest carries the master key to init or unseal. It is sent in
// the body only and never logged.
type VaultKeyRequest struct {
	MasterKey string `json:"master_key"`
}

// ImportRequest is a parsed .env file: all entries are written in one
// transaction, or none.
type ImportRequest struct {
	Entries    []ImportEntry     `json:"entries"`
	Overwrite  bool              `json:"overwrite,omitempty"`
	Production *bool             `json:"production,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// ImportEntry is one KEY=value of the file.
type ImportEntry struct {
	Name  string `json:"name"`
	Line  int    `json:"line"`
	Value []byte `json:"value"`
}

// maxVaultBody bounds a vault request body: a 1 MiB value in base64, or a
// large .env import.
const maxVaultBody = 16 << 20

func (a *API) vaultRoutes() []Route {
	const tag = "vault"
	key := "the master key, in the body only"
	return []Route{
		{Method: "GET", Path: "/api/v1/vault/status", Tag: tag,
			Summary: "Whether the vault is initialized and sealed, and how many secrets it holds", Response: vault.Status{},
			Handler: a.vaultStatus},
		{Method: "POST", Path: "/api/v1/vault/init", Tag: tag, Perm: auth.VaultManage, Action: "vault.init",
			Summary: "Create the vault with a master key (" + key + "); leaves it unsealed", Request: VaultKeyRequest{},
			Response: vault.Status{}, Status: http.StatusCreated, Handler: a.keyed(a.opts.Vault.Init, http.StatusCreated)},
		{Method: "POST", Path: "/api/v1/vault/unseal", Tag: tag, Perm: auth.VaultManage, Action: "vault.unseal",
			Summary: "Unseal the vault with its master key (" + key + "); a wrong key answers 401 and changes nothing",
			Request: VaultKeyRequest{}, Response: vault.Status{}, Handler: a.keyed(a.opts.Vault.Unseal, http.StatusOK)},
		{Method: "POST", Path: "/api/v1/vault/check", Tag: tag, Perm: auth.VaultManage,
			Summary: "Whether a master key (" + key + ") opens the vault, changing nothing: a sealed vault stays sealed; a wrong key answers 401",
			Request: VaultKeyRequest{}, Response: vault.Status{}, Handler: a.keyed(a.opts.Vault.CheckKey, http.StatusOK)},
		{Method: "POST", Path: "/api/v1/vault/seal", Tag: tag, Perm: auth.VaultManage, Action: "vault.seal",
			Summary: "Forget the vault key: secret operations answer 503 until the next unseal", Response: vault.Status{},
			Handler: a.vaultSeal},
		{Method: "POST", Path: "/api/v1/vault/import", Tag: tag, Perm: auth.SecretsWrite, Action: "secret.import",
			Summary: "Import the entries of a .env file in one transaction", Request: ImportRequest{},
			Response: []vault.ImportResult{}, Handler: a.vaultImport},
		{Method: "GET", Path: "/api/v1/vault/expiring", Tag: tag, Perm: auth.SecretsList,
			Query:   []Param{textParam("within", "how far ahead, e.g. 720h or 30d (default 30d)")},
			Summary: "Secrets and certificates the caller may list that expire soon or have expired, soonest first", Response: []vault.Expiry{},
			Handler: a.vaultExpiring},
	}
}

// subject is the vault's view of the caller: the user and the roles of
// the user's server-wide grants.
func subject(r *http.Request) vault.Subject {
	pr := PrincipalFrom(r.Context())
	if pr == nil {
		return vault.Subject{}
	}
	s := vault.Subject{Actor: pr.User}
	for _, g := range pr.Grants {
		if g.Project == "" && g.Environment == "" {
			s.Roles = append(s.Roles, g.Role)
		}
	}
	return s
}

// decodeLarge is decode with a bound of maxVaultBody.
func decodeLarge(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxVaultBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && err != io.EOF {
		return usererr.Wrap(usererr.Invalid, err, "request body: "+err.Error())
	}
	return nil
}

func (a *API) writeVaultStatus(w http.ResponseWriter, r *http.Request, code int) {
	st, err := a.opts.Vault.Status(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, code, st)
}

func (a *API) vaultStatus(w http.ResponseWriter, r *http.Request) {
	a.writeVaultStatus(w, r, http.StatusOK)
}

// masterKey reads the key from the body and clears the request's copy.
func masterKey(r *http.Request) (vault.Secret, error) {
	var req VaultKeyRequest
	if err := decode(r, &req); err != nil {
		return vault.Secret{}, err
	}
	if req.MasterKey == "" {
		return vault.Secret{}, usererr.New(usererr.Invalid, "master_key is empty").
			WithHint("send {\"master_key\": \"...\"} in the body")
	}
	return vault.SecretString(req.MasterKey), nil
}

// keyed serves an endpoint that takes the master key in the body: do
// gets it, and the answer is the vault's status with code.
func (a *API) keyed(do func(context.Context, vault.Secret) error, code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, err := masterKey(r)
		if err == nil {
			err = do(r.Context(), key)
		}
		if err != nil {
			WriteError(w, r, err)
			return
		}
		a.writeVaultStatus(w, r, code)
	}
}

// vaultSeal seals the vault and records it (vault.seal, as unseal is).
// Sealing is never held back for its record: one that cannot be written
// is logged.
func (a *API) vaultSeal(w http.ResponseWriter, r *http.Request) {
	a.opts.Vault.Seal()
	a.opts.Logger.Info("vault sealed", "by", subject(r).Actor)
	if a.opts.Audit != nil {
		if _, err := a.opts.Audit.Append(r.Context(), audit.Event{Action: "vault.seal", Target: "vault", Outcome: audit.OK}); err != nil {
			loggerFrom(r.Context()).Error("audit: cannot record the seal", "err", err)
		}
	}
	a.writeVaultStatus(w, r, http.StatusOK)
}

func (a *API) vaultImport(w http.ResponseWriter, r *http.Request) {
	var req ImportRequest
	if err := decodeLarge(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	if len(req.Entries) == 0 {
		WriteError(w, r, usererr.New(usererr.Invalid, "entries is empty: nothing to import"))
		return
	}
	entries := make([]vault.EnvEntry, len(req.Entries))
	for i, e := range req.Entries {
		entries[i] = vault.EnvEntry{Name: e.Name, Line: e.Line, Value: vault.NewSecret(e.Value)}
		clear(e.Value)
	}
	res, err := a.opts.Vault.Import(r.Context(), subject(r), entries,
		vault.ImportOptions{Overwrite: req.Overwrite, Production: req.Production, Tags: req.Tags})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

func (a *API) vaultExpiring(w http.ResponseWriter, r *http.Request) {
	var within time.Duration
	if s := r.URL.Query().Get("within"); s != "" {
		d, err := ParseTTL(s)
		if err != nil {
			WriteError(w, r, usererr.New(usererr.Invalid, "within %q: want a duration such as 720h or 30d", s))
			return
		}
		within = d
	}
	out, err := a.opts.Vault.Expiring(r.Context(), subject(r), within)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}
