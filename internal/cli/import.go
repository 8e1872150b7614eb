package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// importArtifact reads an artifact file into the target's staging store,
// checking the signature before any blob is stored, and every blob's
// digest as it goes. An artifact that does not verify is not deployed and
// leaves nothing in the store. The key trusted is pubkey's (a minisign
// public key file) when given, else the target server's own
// (trustedKey).
func importArtifact(ctx context.Context, src, pubkey string, t *target) (*artifact.Manifest, error) {
	pub, err := trustedKey(ctx, t, pubkey)
	if err != nil {
		return nil, usererr.Wrap(usererr.KindOf(err), err, fmt.Sprintf("%s: no trusted key to verify its signature with: %v", src, err)).
			WithHint("%s", usererr.HintOf(err))
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, usererr.New(usererr.Usage, "%v", err)
	}
	defer f.Close()
	var sigErr error
	check := func(m *artifact.Manifest, sig []byte) error {
		sigErr = artifact.VerifySignature(m, sig, pub)
		return sigErr
	}
	m, _, err := artifact.ImportWith(ctx, f, t.blobs, artifact.ImportOptions{Check: check}) // a file: entries in any order
	switch {
	case sigErr != nil:
		return nil, usererr.Wrap(usererr.Failed, sigErr, fmt.Sprintf("%s: signature does not verify: %v", src, sigErr)).
			WithHint("deploy the folder instead (the server signs it), or give the key it was signed with: --pubkey FILE")
	case err != nil:
		return nil, usererr.Wrap(usererr.Failed, err, fmt.Sprintf("%s: %v", src, err))
	}
	return m, nil
}

// trustedKey is the key an artifact file deployed to t must be signed
// with: the one in the file pubkey when given, else the server's signing
// key as it publishes it (GET /api/v1/signing-key): the server the deploy
// goes to, wherever it runs, not the key of a data dir on this machine.
func trustedKey(ctx context.Context, t *target, pubkey string) (sign.PublicKey, error) {
	if pubkey != "" {
		return loadPubkey(pubkey) // artifact.go
	}
	k, err := t.client.SigningKey(ctx)
	switch {
	case usererr.KindOf(err) == usererr.NotFound:
		return sign.PublicKey{}, usererr.New(usererr.Usage, "the server does not publish its signing key (a server older than this client)").
			WithHint("pass its public key: --pubkey FILE (the server's <data>/keys/signing.pub)")
	case err != nil:
		return sign.PublicKey{}, err
	}
	return sign.ParsePublicKey([]byte(k.PublicKey))
}
