package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newAuditCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and verify the tamper-evident audit log",
		Long: `Every change on the server, every denied request and every login is recorded in
an append-only, hash-chained audit log whose head is signed periodically.
'audit verify' recomputes the chain and checks the signatures, naming the
first record that was edited, deleted, inserted or reordered.`,
		Example: `  phoenix audit verify
  phoenix audit log --since 24h --action 'deploy.*'
  phoenix audit log --actor alice -o json > alice.jsonl`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newAuditVerifyCmd(g), newAuditLogCmd(g))
	return cmd
}

func newAuditVerifyCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use: "verify",
		Example: `  phoenix audit verify
  phoenix audit verify -o json`,
		Short: "Check the audit log's hash chain and signed checkpoints",
		Long: `Recompute the audit log's hash chain from the first record and check every
checkpoint the server signed with its audit key. An intact log prints the
record count, how far the signatures reach and the verifier key; an edited,
removed or inserted record exits 1 naming the first bad one. Records after the
newest checkpoint are listed as not signed yet (see docs/audit.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuditVerify(cmd.Context(), g) },
	}
}

func runAuditVerify(ctx context.Context, g *Globals) error {
	var rep api.VerifyResponse
	if err := g.do(ctx, "GET", client.Path("audit", "verify"), nil, &rep); err != nil {
		return err
	}
	if err := g.emit(rep, func(w io.Writer) error {
		if rep.OK {
			fmt.Fprintf(w, "audit log intact: %d records, %d signed checkpoints, signed through record %d\n",
				rep.Records, rep.Checkpoints, rep.Signed)
			fmt.Fprintf(w, "head %d %s\nverifier key %s\n", rep.Head.Seq, rep.Head.Hash, rep.VerifierKey)
			writeUnsignedTail(w, rep.Report)
		}
		return nil
	}); err != nil {
		return err
	}
	if !rep.OK {
		return usererr.New(usererr.Conflict, "audit log tampered: first bad record %d: %s", rep.FirstBad, rep.Problem).
			WithHint("compare with an exported copy or a saved checkpoint; records before %d are intact", rep.FirstBad)
	}
	return nil
}

type auditLogOptions struct {
	since, actor, action string
	limit                int
}

func newAuditLogCmd(g *Globals) *cobra.Command {
	o := &auditLogOptions{}
	cmd := &cobra.Command{
		Use: "log",
		Example: `  phoenix audit log --since 24h
  phoenix audit log --action 'deploy.*' --actor alice
  phoenix audit log -o json > audit.jsonl   # JSON lines, every record`,
		Short: "Show audit records (-o json: JSON lines, for export)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runAuditLog(cmd.Context(), g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "", "records since a time (2026-01-02T15:04:05Z) or for a duration back (24h, 7d)")
	f.StringVar(&o.actor, "actor", "", "only this user")
	f.StringVar(&o.action, "action", "", "only this action, or a prefix ending in * (deploy.*)")
	f.IntVar(&o.limit, "limit", 1000, "show the newest this many records in the table (JSON lines export everything)")
	return cmd
}

// check refuses a --limit below 1 and a --since that is neither a time nor
// a duration, as usage errors before the server is asked.
func (o *auditLogOptions) check(g *Globals) error {
	if err := g.checkLimit(o.limit); err != nil {
		return err
	}
	if o.since == "" {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, o.since); err == nil {
		return nil
	}
	if _, err := api.ParseTTL(o.since); err != nil {
		return usererr.New(usererr.Usage, "%s %q: want a time (2026-01-02T15:04:05Z) or a duration (24h, 7d)", g.flagOrEnv("since"), o.since)
	}
	return nil
}

func (o *auditLogOptions) query() string {
	q := url.Values{}
	for k, v := range map[string]string{"since": o.since, "actor": o.actor, "action": o.action} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

func runAuditLog(ctx context.Context, g *Globals, o *auditLogOptions) error {
	if err := o.check(g); err != nil {
		return err
	}
	t, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	q := o.query()
	if q != "" {
		q += "&"
	}
	if g.Output == "json" {
		return exportAudit(ctx, t.client, client.Path("audit")+"?"+q, g.Stdout)
	}
	// The newest records, as a log reads: oldest of them first, the
	// latest on the last line.
	var page api.Page[audit.Record]
	if err := t.client.Do(ctx, "GET", client.Path("audit")+"?"+q+fmt.Sprintf("order=desc&limit=%d", o.limit), nil, &page); err != nil {
		return err
	}
	slices.Reverse(page.Items)
	tb := newTable(g.Stdout, "seq", "time", "actor", "action", "target", "outcome", "source", "detail")
	for _, r := range page.Items {
		tb.row(r.Seq, r.At.Local().Format(time.DateTime), dash(r.Actor), r.Action, dash(r.Target), r.Outcome, dash(r.Source), dash(r.Detail))
	}
	if err := tb.flush(); err != nil {
		return err
	}
	if page.NextCursor != "" {
		fmt.Fprintf(g.Stderr, "the newest %d records; earlier ones are not shown: narrow with --since/--actor/--action, raise --limit (at most %d) or export them all with -o json\n", len(page.Items), api.MaxPageSize)
	}
	return nil
}

// exportAudit writes every selected record as one JSON line, page by page.
func exportAudit(ctx context.Context, c *client.Client, base string, w io.Writer) error {
	enc := json.NewEncoder(w)
	cursor := ""
	for {
		var page api.Page[audit.Record]
		path := base + fmt.Sprintf("limit=%d", api.MaxPageSize)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.Do(ctx, "GET", path, nil, &page); err != nil {
			return err
		}
		for _, r := range page.Items {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			return nil
		}
	}
}

// writeUnsignedTail says which records no checkpoint covers yet, and why
// when the server cannot sign (its audit key is in the sealed vault).
func writeUnsignedTail(w io.Writer, rep audit.Report) {
	if rep.Unsigned > 0 {
		fmt.Fprintf(w, "unsigned tail: records %d to %d are protected by the hash chain alone until the next checkpoint\n",
			rep.Signed+1, rep.Head.Seq)
	}
	if rep.Deferred {
		fmt.Fprintln(w, "checkpoints deferred: the audit key is in the sealed vault; after 'phoenix vault unseal' the next checkpoint covers every record")
	}
}
