// The admin UI shows which Vault token a request used; the token comes from the session.
// b and r are the view and the request: a call on them is no Vault token.
export function showVaultToken(b, r, vaultToken) {
  const vaultTokenView = b.render({ vaultToken, masked: true });
  const vaultTokenHeader = r.getVaultTokenFromHeaders(vaultToken);
  b.AAAArenderVaultTokenTable(vaultTokenView, vaultTokenHeader); // X-Vault-Token
  return r.vaultTokenAccessorLookup;
}
