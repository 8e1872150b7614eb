package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/phoenixvc/phoenix/internal/s3conn"
)

// parallel is how many uploads, downloads or deletions run at once: S3
// latency, not bandwidth, bounds a mirror of many small objects.
const parallel = 8

// Push makes the mirror hold what the repository at dir holds. Objects go
// up first, then snapshots, then the repository's configuration, so a
// snapshot in the bucket never names an object the bucket lacks; keys the
// repository no longer has are deleted last, snapshots before objects.
// Files the bucket already has with the same size are not sent again
// (objects never change once written). Only the repository's own keys
// (objects/, snapshots/) are ever deleted, and a prefix that holds another
// repository is refused.
func (m *S3) Push(ctx context.Context, dir string) (Report, error) {
	local, err := localFiles(dir)
	if err != nil {
		return Report{}, fmt.Errorf("mirror %s: %w", m, err)
	}
	remote, err := m.list(ctx)
	if err != nil {
		return Report{}, err
	}
	if err := m.sameRepository(ctx, dir, remote); err != nil {
		return Report{}, err
	}
	var rep Report
	var mu sync.Mutex
	for _, class := range []string{"objects/", "snapshots/", ""} {
		var todo []string
		for rel, size := range local {
			if rank(rel) == class && remote[rel] != size {
				todo = append(todo, rel)
			}
		}
		err := each(ctx, todo, func(ctx context.Context, rel string) error {
			if err := m.upload(ctx, dir, rel); err != nil {
				return err
			}
			mu.Lock()
			rep.Uploaded++
			rep.Bytes += local[rel]
			mu.Unlock()
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	for _, class := range []string{"snapshots/", "objects/"} { // never anything else under the prefix
		var gone []string
		for rel := range remote {
			if _, ok := local[rel]; !ok && rank(rel) == class {
				gone = append(gone, rel)
			}
		}
		if err := each(ctx, gone, m.delete); err != nil {
			return rep, err
		}
		rep.Deleted += len(gone)
	}
	return rep, nil
}

// rank is the upload class of a repository file: its top folder.
func rank(rel string) string {
	for _, c := range []string{"objects/", "snapshots/"} {
		if strings.HasPrefix(rel, c) {
			return c
		}
	}
	return ""
}

// localFiles lists the repository's files and sizes, leaving out its lock
// and temporary files (those of interrupted operations).
func localFiles(dir string) (map[string]int64, error) {
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasPrefix(d.Name(), ".tmp-"):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir() || rel == "lock" || !d.Type().IsRegular():
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out[rel] = fi.Size()
		return nil
	})
	if err == nil {
		if _, ok := out[configFile]; !ok {
			err = fmt.Errorf("%s is not a backup repository (no phoenix-backup.json)", dir)
		}
	}
	return out, err
}

// list returns the mirror's keys (relative to the prefix) and sizes.
func (m *S3) list(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(m.c, &s3.ListObjectsV2Input{Bucket: aws.String(m.bucket), Prefix: aws.String(m.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("mirror %s: list: %w", m, err)
		}
		for _, o := range page.Contents {
			out[strings.TrimPrefix(aws.ToString(o.Key), m.prefix)] = aws.ToInt64(o.Size)
		}
	}
	return out, nil
}

func (m *S3) upload(ctx context.Context, dir, rel string) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // pruned while we pushed: the next push deletes its key
	} else if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > m.single { // over S3's single-PUT limit
		err = s3conn.PutParts(ctx, m.c, m.bucket, m.prefix+rel, f, fi.Size(), m.partSize)
	} else {
		_, err = m.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(m.prefix + rel),
			Body: f, ContentLength: aws.Int64(fi.Size())})
	}
	if err != nil {
		return fmt.Errorf("mirror %s: put %s: %w", m, rel, err)
	}
	return nil
}

func (m *S3) delete(ctx context.Context, rel string) error {
	_, err := m.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(m.prefix + rel)})
	if err != nil {
		return fmt.Errorf("mirror %s: delete %s: %w", m, rel, err)
	}
	return nil
}

// each calls fn for every item, parallel at a time, and returns the first
// error.
func each(ctx context.Context, items []string, fn func(context.Context, string) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, it := range items {
		g.Go(func() error { return fn(ctx, it) })
	}
	return g.Wait()
}

// configFile is the repository's configuration; its bytes identify it.
const configFile = "phoenix-backup.json"

// sameRepository refuses a mirror whose prefix holds another repository's
// configuration: pushing there would delete that repository's objects.
func (m *S3) sameRepository(ctx context.Context, dir string, remote map[string]int64) error {
	if _, ok := remote[configFile]; !ok {
		return nil
	}
	local, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return err
	}
	out, err := m.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(m.prefix + configFile)})
	if err != nil {
		return fmt.Errorf("mirror %s: get %s: %w", m, configFile, err)
	}
	defer out.Body.Close()
	theirs, err := io.ReadAll(io.LimitReader(out.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("mirror %s: get %s: %w", m, configFile, err)
	}
	if !bytes.Equal(theirs, local) {
		return fmt.Errorf("mirror %s holds another backup repository: give each repository its own prefix", m)
	}
	return nil
}
