package client

import (
	"context"
	"io"
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

// BlobSource opens a blob's bytes on the client side.
type BlobSource interface {
	Get(ctx context.Context, d backend.Digest) (io.ReadCloser, error)
}

// Progress is told about bytes sent; it may be nil.
type Progress interface {
	Start(total int64, blobs int)
	Add(n int64)
	Done()
}

// DeployRequest is one deployment through the upload protocol.
type DeployRequest struct {
	Project     string
	Environment string
	Manifest    []byte // canonical manifest JSON
	Blobs       BlobSource
	Message     string
	Parallel    int // concurrent blob uploads (default 4)
	Progress    Progress
}

// DeployResult is what a deploy did.
type DeployResult struct {
	api.DeploymentResponse
	Sent      int   `json:"blobs_sent"`
	SentBytes int64 `json:"bytes_sent"`
	Total     int   `json:"blobs_total"`
}

// Deploy sends the manifest, uploads only the blobs the server lacks (in
// parallel), and finalizes. Interrupted, it can simply be run again: the
// server then asks only for what is still missing.
func (c *Client) Deploy(ctx context.Context, r DeployRequest) (*DeployResult, error) {
	var up deploy.Upload
	if err := c.Do(ctx, "POST", Path("projects", r.Project, "uploads"), r.Manifest, &up); err != nil {
		return nil, err
	}
	sizes, err := blobSizes(r.Manifest)
	if err != nil {
		return nil, err
	}
	res := &DeployResult{Total: up.Files, Sent: len(up.Missing)}
	var total int64
	for _, d := range up.Missing {
		total += sizes[d]
	}
	res.SentBytes = total
	if r.Progress != nil {
		r.Progress.Start(total, len(up.Missing))
		defer r.Progress.Done()
	}
	if err := c.uploadAll(ctx, r, up.ID, up.Missing, sizes); err != nil {
		return nil, err
	}
	req := api.FinalizeRequest{Environment: r.Environment, Message: r.Message}
	if err := c.Do(ctx, "POST", Path("uploads", up.ID, "finalize"), req, &res.DeploymentResponse); err != nil {
		return nil, err
	}
	return res, nil
}

func (c *Client) uploadAll(ctx context.Context, r DeployRequest, id string, missing []backend.Digest, sizes map[backend.Digest]int64) error {
	g, gctx := errgroup.WithContext(ctx)
	n := r.Parallel
	if n <= 0 {
		n = 4
	}
	g.SetLimit(n)
	for _, d := range missing {
		g.Go(func() error { return c.uploadOne(gctx, r, id, d, sizes[d]) })
	}
	return g.Wait()
}

func (c *Client) uploadOne(ctx context.Context, r DeployRequest, id string, d backend.Digest, size int64) error {
	rc, err := r.Blobs.Get(ctx, d)
	if err != nil {
		return err
	}
	defer rc.Close()
	var body io.Reader = rc
	if r.Progress != nil {
		body = &countingReader{r: rc, p: r.Progress}
	}
	if size == 0 {
		body = http.NoBody
	}
	return c.send(ctx, "PUT", Path("uploads", id, "blobs", string(d)), body, size, "application/octet-stream", nil)
}

type countingReader struct {
	r io.Reader
	p Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.Add(int64(n))
	return n, err
}

// blobSizes maps each blob of a manifest to its size.
func blobSizes(manifest []byte) (map[backend.Digest]int64, error) {
	m, err := artifact.Decode(manifest)
	if err != nil {
		return nil, err
	}
	out := map[backend.Digest]int64{}
	for _, b := range m.Blobs() {
		out[b.Digest] = b.Size
	}
	return out, nil
}

// SigningKey returns the public half of the key the server signs
// artifacts with (GET /api/v1/signing-key).
func (c *Client) SigningKey(ctx context.Context) (api.SigningKey, error) {
	var out api.SigningKey
	return out, c.Do(ctx, "GET", Path("signing-key"), nil, &out)
}
