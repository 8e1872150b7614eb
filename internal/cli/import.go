package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// importArtifact reads an artifact file into the target's staging store,
// checking every blob's digest as it goes and the signature against the
// data dir's public key. An artifact that does not verify is not deployed.
func importArtifact(ctx context.Context, g *Globals, src string, t *target) (*artifact.Manifest, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, usererr.New(usererr.Usage, "%v", err)
	}
	defer f.Close()
	m, sig, err := artifact.Import(ctx, f, t.blobs) // a file: entries in any order
	if err != nil {
		return nil, usererr.Wrap(usererr.Failed, err, fmt.Sprintf("%s: %v", src, err))
	}
	pub, err := sign.LoadPublicKey(filepath.Join(g.Data, "keys", "signing.pub"))
	if err != nil {
		return nil, usererr.Wrap(usererr.Failed, err, fmt.Sprintf("%s: no trusted key to verify its signature with: %v", src, err))
	}
	if err := artifact.VerifySignature(m, sig, pub); err != nil {
		return nil, usererr.Wrap(usererr.Failed, err, fmt.Sprintf("%s: signature does not verify: %v", src, err)).
			WithHint("build it with the server's key, or deploy the folder instead")
	}
	return m, nil
}
