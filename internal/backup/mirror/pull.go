package mirror

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/phoenixvc/phoenix/internal/backup"
)

// Pull downloads the mirror into dst, which must not exist or be empty, so
// that it can be opened as a repository (to restore from after the machine
// and its repository are lost). It downloads into a temporary sibling
// folder, renamed to dst only when every file is in place.
func (m *S3) Pull(ctx context.Context, dst string) (Report, error) {
	if err := backup.CheckNewDir(dst); err != nil { // before any request
		return Report{}, fmt.Errorf("pull to %s: %w", dst, err)
	}
	remote, err := m.list(ctx)
	if err != nil {
		return Report{}, err
	}
	if _, ok := remote[configFile]; !ok {
		return Report{}, fmt.Errorf("mirror %s holds no backup repository (no phoenix-backup.json)", m)
	}
	var rep Report
	err = backup.IntoNewDir(dst, "pull", func(tmp string) (err error) {
		rep, err = m.download(ctx, tmp, remote)
		return err
	})
	if err != nil {
		return Report{}, fmt.Errorf("pull to %s: %w", dst, err)
	}
	return rep, nil
}

func (m *S3) download(ctx context.Context, dir string, remote map[string]int64) (Report, error) {
	keys := make([]string, 0, len(remote))
	for rel := range remote {
		if rank(rel) == "" && rel != configFile {
			continue // not the repository's: other data under the prefix
		}
		if !safeRel(rel) {
			return Report{}, fmt.Errorf("mirror %s: key %q is not a repository path", m, rel)
		}
		keys = append(keys, rel)
	}
	var rep Report
	var mu sync.Mutex
	err := each(ctx, keys, func(ctx context.Context, rel string) error {
		n, err := m.get(ctx, dir, rel)
		if err != nil {
			return err
		}
		mu.Lock()
		rep.Downloaded++
		rep.Bytes += n
		mu.Unlock()
		return nil
	})
	return rep, err
}

// safeRel accepts only a clean relative path that stays inside dir.
func safeRel(rel string) bool {
	return rel != "" && rel != "." && path.Clean(rel) == rel && filepath.IsLocal(filepath.FromSlash(rel)) && !path.IsAbs(rel)
}

func (m *S3) get(ctx context.Context, dir, rel string) (int64, error) {
	out, err := m.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(m.prefix + rel)})
	if err != nil {
		return 0, fmt.Errorf("mirror %s: get %s: %w", m, rel, err)
	}
	defer out.Body.Close()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, out.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("mirror %s: get %s: %w", m, rel, err)
	}
	return n, nil
}
