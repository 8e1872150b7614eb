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
// checking the signature against the data dir's public key before any
// blob is stored, and every blob's digest as it goes. An artifact that
// does not verify is not deployed and leaves nothing in the store.
func importArtifact(ctx context.Context, g *Globals, src string, t *target) (*artifact.Manifest, error) {
	pub, err := sign.LoadPublicKey(filepath.Join(g.Data, "keys", "signing.pub"))
	if err != nil {
		return nil, usererr.Wrap(usererr.Failed, err, fmt.Sprintf("%s: no trusted key to verify its signature with: %v", src, err))
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
			WithHint("build it with the server's key, or deploy the folder instead")
	case err != nil:
		return nil, usererr.Wrap(usererr.Failed, err, fmt.Sprintf("%s: %v", src, err))
	}
	return m, nil
}
