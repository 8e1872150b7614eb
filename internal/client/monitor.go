package client

import (
	"context"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// Status reports every environment's release, health, alerts and SLA.
func (c *Client) Status(ctx context.Context) ([]api.EnvReport, error) {
	var out []api.EnvReport
	return out, c.Do(ctx, "GET", Path("status"), nil, &out)
}

// Alerts lists pending and firing alerts (all: every known one).
func (c *Client) Alerts(ctx context.Context, all bool) ([]monitor.Alert, error) {
	var out []monitor.Alert
	return out, c.Do(ctx, "GET", Path("alerts")+"?all="+strconv.FormatBool(all), nil, &out)
}

// AlertHistory lists alert state changes, newest first.
func (c *Client) AlertHistory(ctx context.Context, limit int) ([]monitor.AlertEvent, error) {
	var out []monitor.AlertEvent
	return out, c.Do(ctx, "GET", Path("alerts", "history")+"?limit="+strconv.Itoa(limit), nil, &out)
}

// Silences lists silences and maintenance windows (all: ended ones too).
func (c *Client) Silences(ctx context.Context, all bool) ([]monitor.Silence, error) {
	var out []monitor.Silence
	return out, c.Do(ctx, "GET", Path("silences")+"?all="+strconv.FormatBool(all), nil, &out)
}

// AddSilence silences alerts for a while.
func (c *Client) AddSilence(ctx context.Context, req api.SilenceRequest) (monitor.Silence, error) {
	var out monitor.Silence
	return out, c.Do(ctx, "POST", Path("silences"), req, &out)
}

// ExpireSilence ends a silence now.
func (c *Client) ExpireSilence(ctx context.Context, id int64) error {
	return c.Do(ctx, "DELETE", Path("silences", strconv.FormatInt(id, 10)), nil, nil)
}

// AckAlert acknowledges alert id (RULE@ENV) with a comment.
func (c *Client) AckAlert(ctx context.Context, id, comment string) (monitor.Alert, error) {
	var out monitor.Alert
	return out, c.Do(ctx, "POST", Path("alerts", id, "ack"), api.AckRequest{Comment: comment}, &out)
}

// UnackAlert removes the acknowledgement of alert id.
func (c *Client) UnackAlert(ctx context.Context, id string) (monitor.Alert, error) {
	var out monitor.Alert
	return out, c.Do(ctx, "DELETE", Path("alerts", id, "ack"), nil, &out)
}
