package client

import (
	"bytes"
	"context"

	"github.com/phoenixvc/phoenix/internal/projectcfg"
)

// PutConfig hands the server project's phoenix.yaml (the file as
// written), as 'phoenix deploy' does; the server stores it and puts its
// probes, alert rules, channels and health checks in effect.
func (c *Client) PutConfig(ctx context.Context, project string, yaml []byte) (*projectcfg.Summary, error) {
	var out projectcfg.Summary
	err := c.send(ctx, "PUT", Path("projects", project, "config"), bytes.NewReader(yaml), int64(len(yaml)), "application/yaml", &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Config describes what the server uses of project's phoenix.yaml and
// where it came from.
func (c *Client) Config(ctx context.Context, project string) (*projectcfg.Summary, error) {
	var out projectcfg.Summary
	if err := c.Do(ctx, "GET", Path("projects", project, "config"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
