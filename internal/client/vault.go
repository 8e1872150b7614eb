package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// The vault calls. Values and the master key travel in bodies only, and
// come back wrapped in vault.Secret, which never prints itself.

// VaultStatus reports whether the vault is initialized and sealed.
func (c *Client) VaultStatus(ctx context.Context) (vault.Status, error) {
	var st vault.Status
	return st, c.Do(ctx, "GET", Path("vault", "status"), nil, &st)
}

// VaultInit creates the vault with key and leaves it unsealed.
func (c *Client) VaultInit(ctx context.Context, key vault.Secret) (vault.Status, error) {
	var st vault.Status
	return st, c.Do(ctx, "POST", Path("vault", "init"), api.VaultKeyRequest{MasterKey: key.Reveal()}, &st)
}

// VaultUnseal hands the server the master key.
func (c *Client) VaultUnseal(ctx context.Context, key vault.Secret) (vault.Status, error) {
	var st vault.Status
	return st, c.Do(ctx, "POST", Path("vault", "unseal"), api.VaultKeyRequest{MasterKey: key.Reveal()}, &st)
}

// VaultSeal makes the server forget the vault key.
func (c *Client) VaultSeal(ctx context.Context) (vault.Status, error) {
	var st vault.Status
	return st, c.Do(ctx, "POST", Path("vault", "seal"), nil, &st)
}

// SetSecret stores a new version of name.
func (c *Client) SetSecret(ctx context.Context, name string, req api.SecretRequest) (vault.VersionInfo, error) {
	var vi vault.VersionInfo
	return vi, c.Do(ctx, "PUT", Path("secrets", name), req, &vi)
}

// SecretValue reads a value: version 0 is the newest enabled, valid one.
func (c *Client) SecretValue(ctx context.Context, name string, version int) (vault.Secret, vault.VersionInfo, error) {
	path := Path("secrets", name, "value")
	if version > 0 {
		path += "?version=" + strconv.Itoa(version)
	}
	var out api.SecretValue
	if err := c.Do(ctx, "GET", path, nil, &out); err != nil {
		return vault.Secret{}, vault.VersionInfo{}, err
	}
	s := vault.NewSecret(out.Value)
	clear(out.Value)
	return s, out.VersionInfo, nil
}

// Secrets lists secret metadata; deleted lists the recoverable ones.
func (c *Client) Secrets(ctx context.Context, deleted bool, match string) ([]vault.Info, error) {
	q := url.Values{}
	if deleted {
		q.Set("deleted", "true")
	}
	if match != "" {
		q.Set("match", match)
	}
	path := Path("secrets")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var page api.Page[vault.Info]
	return page.Items, c.Do(ctx, "GET", path, nil, &page)
}

// SecretHistory lists a secret's versions, newest first.
func (c *Client) SecretHistory(ctx context.Context, name string) ([]vault.VersionInfo, error) {
	var vs []vault.VersionInfo
	return vs, c.Do(ctx, "GET", Path("secrets", name, "versions"), nil, &vs)
}

// SetSecretEnabled enables or disables one version.
func (c *Client) SetSecretEnabled(ctx context.Context, name string, version int, enabled bool) error {
	return c.Do(ctx, "PATCH", Path("secrets", name, "versions", strconv.Itoa(version)), api.VersionRequest{Enabled: enabled}, nil)
}

// SetRotation sets a rotation policy; nil removes it.
func (c *Client) SetRotation(ctx context.Context, name string, p *vault.RotationPolicy) error {
	return c.Do(ctx, "PUT", Path("secrets", name, "rotation"), api.RotationRequest{Policy: p}, nil)
}

// RotateSecret rotates name now.
func (c *Client) RotateSecret(ctx context.Context, name string) (vault.VersionInfo, error) {
	var vi vault.VersionInfo
	return vi, c.Do(ctx, "POST", Path("secrets", name, "rotate"), nil, &vi)
}

// DeleteSecret deletes name (recoverably), or purges a deleted one.
func (c *Client) DeleteSecret(ctx context.Context, name string, purge bool) (api.DeleteSecretResponse, error) {
	path := Path("secrets", name)
	if purge {
		path += "?purge=true"
	}
	var out api.DeleteSecretResponse
	return out, c.Do(ctx, "DELETE", path, nil, &out)
}

// RecoverSecret undoes a delete.
func (c *Client) RecoverSecret(ctx context.Context, name string) error {
	return c.Do(ctx, "POST", Path("secrets", name, "recover"), nil, nil)
}

// ImportSecrets writes the entries of a .env file in one transaction.
func (c *Client) ImportSecrets(ctx context.Context, req api.ImportRequest) ([]vault.ImportResult, error) {
	var out []vault.ImportResult
	return out, c.Do(ctx, "POST", Path("vault", "import"), req, &out)
}
