package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newArtifactCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use: "artifact",
		Example: `  phoenix artifact build dist --out site-v1.2.0.tar --release v1.2.0
  phoenix artifact verify site-v1.2.0.tar
  phoenix deploy site-v1.2.0.tar --env staging`,
		Short: "Build and verify signed, content-addressed release artifacts",
		Long: `An artifact is a manifest (every path with its sha256, size, content type, SRI
hash and precompressed variants) plus the blobs it names, signed with a
minisign ed25519 key. As one file it is a tar with the manifest first, to move
a release between machines; 'phoenix deploy FILE' deploys it.`,
	}
	cmd.AddCommand(newArtifactBuildCmd(g), newArtifactVerifyCmd(g))
	return cmd
}

type artifactBuildOptions struct {
	out, key, release, project string
	integrity, publicMaps      bool
}

func newArtifactBuildCmd(g *Globals) *cobra.Command {
	o := &artifactBuildOptions{}
	cmd := &cobra.Command{
		Use:   "build DIR --out FILE",
		Short: "Pack a built folder into a signed artifact file",
		Long: `Pack a built folder into a signed artifact file. With SOURCE_DATE_EPOCH set
(seconds since 1970, e.g. the commit time) the manifest records that time instead
of now, so building the same folder again gives the same digest and the same
file.`,
		Example: `  phoenix artifact build dist --out site-v1.2.0.tar --release v1.2.0
  phoenix artifact build dist --out site.tar --key release.key --integrity
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) phoenix artifact build dist --out site.tar`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runArtifactBuild(cmd.Context(), g, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "artifact file to write (required)")
	f.StringVar(&o.key, "key", "", "minisign secret key (default: <data>/keys/signing.key, created if missing); an encrypted one's password in PHOENIX_KEY_PASSWORD")
	f.StringVar(&o.release, "release", "", "release name recorded in the manifest, e.g. v1.2.0")
	f.StringVar(&o.project, "project", "", "project name recorded in the manifest")
	f.BoolVar(&o.integrity, "integrity", false, "add integrity= attributes to <script> and <link> tags in HTML")
	f.BoolVar(&o.publicMaps, "public-sourcemaps", false, "serve *.map files (kept but private by default)")
	cmd.MarkFlagRequired("out")
	return cmd
}

func runArtifactBuild(ctx context.Context, g *Globals, o *artifactBuildOptions, dir string) error {
	if err := errors.Join(pathArg("folder", dir), outArg("--out", o.out)); err != nil {
		return err
	}
	key, err := localKey(g.Data, o.key)
	if err != nil {
		return err
	}
	created, err := createdFromEnv()
	if err != nil {
		return err
	}
	b := newBar(g.Stderr, "building")
	opts := artifact.BuildOptions{Meta: artifact.Meta{Project: o.project, Release: o.release, Created: created},
		HTMLIntegrity: o.integrity, PublicSourceMaps: o.publicMaps,
		Progress: func(p artifact.Progress) { b.set(p.Bytes, p.TotalBytes) }}
	m, err := artifact.BuildFile(ctx, dir, o.out, &key, nil, opts)
	b.Done()
	if err != nil {
		return usererr.Wrap(usererr.Failed, err, err.Error())
	}
	d, _ := m.Digest()
	summary := map[string]any{"file": o.out, "manifest": d, "files": len(m.Files), "key_id": key.ID(), "warnings": m.Warnings}
	return g.emit(summary, func(w io.Writer) error {
		fmt.Fprintf(w, "wrote %s: %d files, manifest %s, signed by key %s\n", o.out, len(m.Files), d, key.ID())
		for _, warn := range m.Warnings {
			fmt.Fprintf(w, "warning: %s\n", warn)
		}
		return nil
	})
}

// createdFromEnv is the manifest's creation time pinned by
// SOURCE_DATE_EPOCH (zero: now), for reproducible artifacts.
func createdFromEnv() (time.Time, error) {
	t, err := artifact.CreatedFromEnv(os.Environ())
	if err != nil {
		return t, usererr.New(usererr.Usage, "%v", err).
			WithHint("unset it, or set it to the commit time: export SOURCE_DATE_EPOCH=$(git log -1 --format=%%ct)")
	}
	return t, nil
}

// localKey loads the signing key at path, or the data dir's, creating the
// latter (0600, with its .pub beside it) on first use.
func localKey(data, path string) (sign.PrivateKey, error) {
	if path != "" {
		if err := pathArg("key file", path); err != nil {
			return sign.PrivateKey{}, err
		}
		pw := os.Getenv("PHOENIX_KEY_PASSWORD")
		k, err := sign.LoadPrivateKey(path, pw)
		switch {
		case err == nil:
			return k, nil
		case errors.Is(err, sign.ErrEncrypted):
			return k, usererr.Wrap(usererr.Usage, err, err.Error()).
				WithHint("set PHOENIX_KEY_PASSWORD to its password (minisign -G encrypts a key unless given -W)")
		case errors.Is(err, sign.ErrWrongPassword):
			return k, usererr.Wrap(usererr.Usage, err, err.Error()).
				WithHint("PHOENIX_KEY_PASSWORD is not this key's password")
		}
		return k, usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("pass the minisign secret key file: --key FILE")
	}
	path = filepath.Join(data, "keys", "signing.key")
	k, err := sign.LoadPrivateKey(path, "")
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "signing.pub")); err == nil {
		return k, usererr.New(usererr.Usage, "the signing key of %s lives in its vault, not in a file", data).
			WithHint("deploy the folder with 'phoenix deploy' (the server signs), or sign with your own key: --key FILE")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return k, err
	}
	pub, k, err := sign.GenerateKey(rand.Reader)
	if err != nil {
		return k, err
	}
	if err := sign.SavePrivateKey(path, k, ""); err != nil {
		return k, err
	}
	return k, sign.SavePublicKey(filepath.Join(filepath.Dir(path), "signing.pub"), pub)
}

func newArtifactVerifyCmd(g *Globals) *cobra.Command {
	var pubPath string
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check an artifact's signature and every blob's digest",
		Long: `Read an artifact file end to end without writing anything: the signature must
verify with the public key, every blob and variant must hash to its digest, and
the archive must be complete. Exits 1 and lists every problem otherwise.`,
		Example: "  phoenix artifact verify site.tar\n  phoenix artifact verify site.tar --pubkey release.pub\n" +
			"  phoenix artifact verify site.tar --server https://phoenix.example.com   # that server's key",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runArtifactVerify(cmd.Context(), g, pubPath, args[0])
		},
	}
	cmd.Flags().StringVar(&pubPath, "pubkey", "", "minisign public key (default: with --server that server's signing key, else <data>/keys/signing.pub)")
	return cmd
}

// verifyKey is the key phoenix artifact verify checks with: --pubkey's,
// else with --server (or PHOENIX_SERVER) that server's signing key, else
// the data dir's keys/signing.pub.
func verifyKey(ctx context.Context, g *Globals, pubPath string) (sign.PublicKey, error) {
	if pubPath == "" && g.Server != "" {
		t, err := g.connect(ctx)
		if err != nil {
			return sign.PublicKey{}, err
		}
		defer t.close()
		return trustedKey(ctx, t, "") // import.go
	}
	if pubPath == "" {
		pubPath = filepath.Join(g.Data, "keys", "signing.pub")
	}
	return loadPubkey(pubPath)
}

// loadPubkey reads the minisign public key file path (--pubkey).
func loadPubkey(path string) (sign.PublicKey, error) {
	if err := pathArg("public key", path); err != nil {
		return sign.PublicKey{}, usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("pass --pubkey FILE")
	}
	pub, err := sign.LoadPublicKey(path)
	if err != nil {
		return pub, usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("pass the minisign public key file: --pubkey FILE")
	}
	return pub, nil
}

func runArtifactVerify(ctx context.Context, g *Globals, pubPath, file string) error {
	if err := pathArg("artifact file", file); err != nil {
		return err
	}
	pub, err := verifyKey(ctx, g, pubPath)
	if err != nil {
		return err
	}
	m, sig, problems, err := artifact.VerifyFile(ctx, file, &pub)
	if err != nil {
		return err
	}
	texts := make([]string, len(problems))
	for i, p := range problems {
		texts[i] = p.String()
	}
	out := map[string]any{"file": file, "ok": len(problems) == 0, "problems": texts}
	if m != nil {
		out["files"] = len(m.Files)
		out["release"] = m.Meta.Release
		if d, err := m.Digest(); err == nil {
			out["manifest"] = d
		}
	}
	// The key that signed it, as build says which key it signed with: the
	// signature's own key id, so it is there when another key is expected.
	if s, err := sign.ParseSignature(sig); err == nil {
		out["key_id"] = s.KeyID
	}
	if err := g.emit(out, func(w io.Writer) error {
		for _, t := range texts {
			fmt.Fprintln(w, "problem:", t)
		}
		// As build's text: the manifest's digest and the signer, also
		// under problems when the archive could be read.
		signer := "not signed"
		if id, ok := out["key_id"]; ok {
			signer = fmt.Sprintf("signed by key %s", id)
		}
		switch d, ok := out["manifest"]; {
		case len(texts) == 0:
			fmt.Fprintf(w, "%s: signature and all %d files verified, manifest %s, %s\n", file, len(m.Files), d, signer)
		case ok:
			fmt.Fprintf(w, "%s: manifest %s, %s\n", file, d, signer)
		}
		return nil
	}); err != nil {
		return err
	}
	if len(problems) > 0 {
		return usererr.New(usererr.Failed, "%s: %d problem(s); do not deploy it", file, len(problems))
	}
	return nil
}
