package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Release queues a release through the project's pipeline.
func (c *Client) Release(ctx context.Context, req api.ReleaseRequest) (pipeline.Run, error) {
	var r pipeline.Run
	return r, c.Do(ctx, "POST", Path("releases"), req, &r)
}

// Runs lists runs, newest first; empty filters match everything.
func (c *Client) Runs(ctx context.Context, project, status string, limit int) ([]pipeline.Run, error) {
	q := url.Values{}
	for k, v := range map[string]string{"project": project, "status": status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := Path("runs")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var page api.Page[pipeline.Run]
	return page.Items, c.Do(ctx, "GET", path, nil, &page)
}

func runPath(id int64, rest ...string) string {
	return Path(append([]string{"runs", strconv.FormatInt(id, 10)}, rest...)...)
}

// Run returns a run with its steps and approvals.
func (c *Client) Run(ctx context.Context, id int64) (pipeline.RunDetail, error) {
	var d pipeline.RunDetail
	return d, c.Do(ctx, "GET", runPath(id), nil, &d)
}

// Logs copies a run's logs to w (one step's when step is set); with
// follow it streams until the run finishes or ctx ends. It has no
// overall timeout: a run may wait hours for an approval.
func (c *Client) Logs(ctx context.Context, id int64, step string, follow bool, w io.Writer) error {
	q := url.Values{}
	if step != "" {
		q.Set("step", step)
	}
	if follow {
		q.Set("follow", "true")
	}
	path := runPath(id, "logs")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	streaming := &http.Client{Transport: c.http.Transport}
	resp, err := streaming.Do(req)
	if err != nil {
		return usererr.Wrap(usererr.Unavailable, err, fmt.Sprintf("cannot reach the phoenix server at %s", c.base))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	_, err = io.Copy(w, resp.Body)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// CancelRun cancels a queued or running run.
func (c *Client) CancelRun(ctx context.Context, id int64) (pipeline.RunDetail, error) {
	var d pipeline.RunDetail
	return d, c.Do(ctx, "POST", runPath(id, "cancel"), nil, &d)
}

// RetryRun queues a finished run's plan again.
func (c *Client) RetryRun(ctx context.Context, id int64) (pipeline.Run, error) {
	var r pipeline.Run
	return r, c.Do(ctx, "POST", runPath(id, "retry"), nil, &r)
}

// Approve approves run id's gate for env ("" for the one it waits at).
func (c *Client) Approve(ctx context.Context, id int64, env, comment string) error {
	return c.Do(ctx, "POST", runPath(id, "approve"), api.DecisionRequest{Environment: env, Comment: comment}, nil)
}

// Reject fails run id at its gate for env with a reason.
func (c *Client) Reject(ctx context.Context, id int64, env, reason string) error {
	return c.Do(ctx, "POST", runPath(id, "reject"), api.DecisionRequest{Environment: env, Comment: reason}, nil)
}
