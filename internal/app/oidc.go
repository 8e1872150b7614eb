package app

import (
	"context"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
)

// openOIDC discovers the single sign-on provider of Options.OIDC; a
// provider that cannot be reached fails the start rather than hiding
// the sign-in button.
func (a *App) openOIDC() error {
	if a.opts.OIDC == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o, err := auth.NewOIDC(ctx, *a.opts.OIDC)
	if err != nil {
		return err
	}
	a.sso = o
	a.log.Info("single sign-on", "provider", o.Label(), "issuer", a.opts.OIDC.Issuer)
	return nil
}
