package app

import (
	"net/http"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
)

// storeRoutes are the API's blob store endpoints.
func (a *App) storeRoutes() []api.Route {
	return []api.Route{
		{Method: "POST", Path: "/api/v1/store/verify", Tag: "store", Perm: auth.GC, Action: "store.verify",
			Query: []api.Param{{Name: "all", Values: []string{"true", "false"},
				Description: "true: read every stored blob, not only those retained deployments use"}},
			Summary:  "Read back and re-hash the blobs retained deployments use; answers when done, listing the damaged or missing ones",
			Response: StoreReport{}, Handler: a.postStoreVerify},
	}
}

func (a *App) postStoreVerify(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("all") == "true"
	rep, err := a.VerifyStore(r.Context(), api.PrincipalFrom(r.Context()).User, all, 0)
	if err != nil {
		api.WriteError(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, rep)
}
