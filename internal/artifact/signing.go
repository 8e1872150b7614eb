package artifact

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
)

// commentPrefix starts the trusted comment of every manifest signature.
const commentPrefix = "phoenix-artifact"

// Sign signs the manifest's canonical bytes. The signature is a detached
// minisign signature whose trusted comment names the project, release and
// manifest digest, e.g.
//
//	phoenix-artifact project=shop release=v1.2.3 manifest=sha256:... timestamp=1764115200
//
// so `minisign -V -m manifest.json` shows what was signed. The timestamp
// is the manifest's creation time (SOURCE_DATE_EPOCH when set), not the
// clock's: a reproducible build then signs to the same bytes, so its tar is
// the same too; the clock only for a manifest without one.
func Sign(m *Manifest, key sign.PrivateKey) ([]byte, error) {
	data, err := m.Canonical()
	if err != nil {
		return nil, err
	}
	at := m.Meta.Created
	if at.IsZero() {
		at = time.Now()
	}
	tc := fmt.Sprintf("%s project=%s release=%s manifest=%s timestamp=%d", commentPrefix,
		url.QueryEscape(m.Meta.Project), url.QueryEscape(m.Meta.Release), backend.Sum(data), at.Unix())
	return sign.Sign(key, data, tc)
}

// ErrUnsigned is reported when there is no signature or no key to check it.
var ErrUnsigned = errors.New("manifest is not signed")

// VerifySignature checks sig over the manifest's canonical bytes with pub.
// A trusted comment written by Sign must also name this manifest's digest,
// project and release; signatures made by the minisign tool (other comments)
// are accepted on the signature alone.
func VerifySignature(m *Manifest, sig []byte, pub sign.PublicKey) error {
	if len(sig) == 0 {
		return ErrUnsigned
	}
	data, err := m.Canonical()
	if err != nil {
		return err
	}
	s, err := sign.Verify(pub, data, sig)
	if err != nil {
		return fmt.Errorf("manifest signature: %w", err)
	}
	return checkComment(s.TrustedComment, m, backend.Sum(data))
}

func checkComment(tc string, m *Manifest, d backend.Digest) error {
	fields := strings.Fields(tc)
	if len(fields) == 0 || fields[0] != commentPrefix {
		return nil
	}
	want := map[string]string{"project": m.Meta.Project, "release": m.Meta.Release, "manifest": string(d)}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		w, ok := want[k]
		if !ok {
			continue
		}
		if got, err := url.QueryUnescape(v); err != nil || got != w {
			return fmt.Errorf("manifest signature: %w: trusted comment says %s=%s, manifest has %s", sign.ErrBadSignature, k, strconv.Quote(v), strconv.Quote(w))
		}
		delete(want, k)
	}
	if _, missing := want["manifest"]; missing {
		return fmt.Errorf("manifest signature: %w: trusted comment names no manifest digest", sign.ErrBadSignature)
	}
	return nil
}
