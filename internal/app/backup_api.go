package app

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/backup"
)

// backupRoutes are the API's backup endpoints. They live here, beside
// the Backups they call, and go through the API's authorization and into
// its OpenAPI document like every route.
func (a *App) backupRoutes() []api.Route {
	return []api.Route{
		{Method: "POST", Path: "/api/v1/backups", Tag: "backups", Perm: auth.Backup, Action: "backup.create",
			Summary:  "Take a backup now (database snapshot, files, restore test, retention); answers when done",
			Response: BackupResult{}, Status: http.StatusCreated, Handler: a.postBackup},
		{Method: "GET", Path: "/api/v1/backups", Tag: "backups", Perm: auth.Backup,
			Summary: "The backup repository's snapshots, newest first", Response: []backup.Summary{}, Handler: a.listBackups},
		{Method: "GET", Path: "/api/v1/backups/status", Tag: "backups", Perm: auth.Backup,
			Summary: "Last success, last failure and next run of the server's backups", Response: BackupStatus{},
			Handler: func(w http.ResponseWriter, r *http.Request) {
				api.WriteJSON(w, http.StatusOK, a.Backups.Status(r.Context()))
			}},
	}
}

func (a *App) postBackup(w http.ResponseWriter, r *http.Request) {
	res, err := a.Backups.Run(r.Context(), api.PrincipalFrom(r.Context()).User)
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, res)
}

func (a *App) listBackups(w http.ResponseWriter, r *http.Request) {
	list, err := a.Backups.List(r.Context())
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, list)
}
