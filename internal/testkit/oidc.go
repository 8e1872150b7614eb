package testkit

import (
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// OIDCProvider starts a mock OpenID Connect provider on 127.0.0.1 and
// stops it when the test ends. QueueUser decides who signs in next
// (mockoidc.DefaultUser, "jane.doe", when none is queued).
func OIDCProvider(t testing.TB) *mockoidc.MockOIDC {
	t.Helper()
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Shutdown() })
	return op
}
