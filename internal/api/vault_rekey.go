package api

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// VaultRekeyRequest carries the vault's master key and the one to replace
// it. Like VaultKeyRequest it is sent in the body only, never logged, and
// neither key is ever in an answer.
type VaultRekeyRequest struct {
	OldMasterKey string `json:"old_master_key"`
	NewMasterKey string `json:"new_master_key"`
}

func (a *API) vaultRekeyRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/api/v1/vault/rekey", Tag: "vault", Perm: auth.VaultManage, Action: "vault.rekey",
			Summary: "Change the vault's master key (both keys in the body only): every version's data key is re-wrapped " +
				"in one transaction; a wrong old key answers 400 and changes nothing. Afterwards only the new key unseals; " +
				"other servers sharing the database seal themselves",
			Request: VaultRekeyRequest{}, Response: vault.Status{}, Handler: a.vaultRekey},
	}
}

func (a *API) vaultRekey(w http.ResponseWriter, r *http.Request) {
	var req VaultRekeyRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	if req.OldMasterKey == "" || req.NewMasterKey == "" {
		WriteError(w, r, usererr.New(usererr.Invalid, "old_master_key and new_master_key are both needed").
			WithHint("send {\"old_master_key\": \"...\", \"new_master_key\": \"...\"} in the body"))
		return
	}
	err := a.opts.Vault.Rekey(r.Context(), subject(r), vault.SecretString(req.OldMasterKey), vault.SecretString(req.NewMasterKey))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	a.writeVaultStatus(w, r, http.StatusOK)
}
