package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newTokenCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API and deploy tokens",
		Long: `Tokens authenticate the CLI, scripts and CI to a Phoenix server. The server
keeps only a hash: the secret is printed once, when the token is created.
API tokens expire (default 90d) and may be scoped to some of your permissions;
deploy tokens are short-lived (default 15m) and can only read and deploy one
project's environment, for CI systems.`,
		Example: `  phoenix token create --name laptop
  phoenix token create --scope read --expires 30d
  phoenix token create --deploy --project shop --env staging --expires 30m
  phoenix token list
  phoenix token revoke 1a2b3c4d5e6f7a8b`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newTokenCreateCmd(g), newTokenListCmd(g), newTokenRevokeCmd(g))
	return cmd
}

func newTokenCreateCmd(g *Globals) *cobra.Command {
	var req api.TokenRequest
	var scopes []string
	var deployTok bool
	cmd := &cobra.Command{
		Use: "create",
		Example: `  phoenix token create --name laptop
  phoenix token create --name dashboards --scope read --expires 30d
  phoenix token create --deploy --project shop --env staging --expires 30m`,
		Short: "Create a token and print its secret (shown only this once)",
		Long: `Create a token and print its secret, which is never shown again (the server
keeps a hash). An API token acts as its user with all their permissions, or
only those --scope names; it expires after --expires (default 90d, at most
366d). A deploy token (--deploy) can only read and deploy one --project's
--env, and lives 15m by default (at most 24h): hand it to a CI job.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range scopes {
				req.Scopes = append(req.Scopes, auth.Permission(s))
			}
			if deployTok {
				req.Kind = auth.KindDeploy
			}
			return runTokenCreate(cmd.Context(), g, req)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "what the token is for")
	f.StringVar(&req.User, "user", "", "owner (another user's token needs users.manage)")
	f.StringSliceVar(&scopes, "scope", nil, "limit to these of your permissions, comma-separated: "+permissionNames()+" (default: all of them)")
	f.BoolVar(&deployTok, "deploy", false, "a short-lived deploy token for CI (needs --project and --env)")
	f.StringVarP(&req.Project, "project", "p", "", "project of a deploy token")
	f.StringVarP(&req.Environment, "env", "e", "", "environment of a deploy token")
	f.StringVar(&req.TTL, "expires", "", "lifetime, e.g. 30m, 12h, 90d (default 90d, deploy tokens 15m)")
	return cmd
}

// permissionNames lists every permission a token's --scope may name.
func permissionNames() string {
	names := make([]string, len(auth.Permissions))
	for i, p := range auth.Permissions {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

func runTokenCreate(ctx context.Context, g *Globals, req api.TokenRequest) error {
	if err := checkExpires(req); err != nil {
		return err
	}
	var res api.TokenResponse
	if err := g.do(ctx, "POST", client.Path("tokens"), req, &res); err != nil {
		return err
	}
	return g.emit(res, func(w io.Writer) error {
		fmt.Fprintf(w, "%s\n\n", res.Secret)
		fmt.Fprintf(g.Stderr, "token %s (%s) for %s, scopes %s, expires %s\n", res.Token.ID, res.Token.Kind, res.Token.User,
			scopeList(res.Token.Scopes), when(res.Token.ExpiresAt))
		fmt.Fprintln(g.Stderr, "This is the only time the secret is shown. Use it as PHOENIX_TOKEN.")
		return nil
	})
}

// checkExpires refuses an --expires the server would, in the units it was
// typed in ("--expires 400d: an API token lives at most 366 days").
func checkExpires(req api.TokenRequest) error {
	ttl, err := api.ParseTTL(req.TTL)
	if err != nil {
		return usererr.New(usererr.Usage, "--expires %q: want a lifetime such as 30m, 12h or 90d", req.TTL)
	}
	if why := auth.LifetimeProblem(req.Kind, ttl); why != "" {
		return usererr.New(usererr.Usage, "--expires %s: %s", req.TTL, why)
	}
	return nil
}

func newTokenListCmd(g *Globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use: "list",
		Example: `  phoenix token list
  phoenix token list --all -o json`,
		Short: "List your tokens (ids, scopes, expiry; never secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := client.Path("tokens")
			if all {
				path += "?all=true"
			}
			items, err := listAll[auth.Token](cmd.Context(), g, path)
			if err != nil {
				return err
			}
			return g.emit(items, func(w io.Writer) error {
				tb := newTable(w, "id", "user", "kind", "name", "scopes", "target", "expires", "last used", "revoked")
				for _, t := range items {
					target := "-"
					if t.Project != "" {
						target = t.Project + "/" + t.Environment
					}
					tb.row(t.ID, t.User, t.Kind, dash(t.Name), scopeList(t.Scopes), target, when(t.ExpiresAt), when(t.LastUsedAt), when(t.RevokedAt))
				}
				return tb.flush()
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every user's tokens (needs users.manage)")
	return cmd
}

func newTokenRevokeCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use: "revoke ID",
		Example: `  phoenix token list              # the ID column
  phoenix token revoke 1a2b3c4d5e6f7a8b`,
		Short: "Revoke a token; it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.do(cmd.Context(), "DELETE", client.Path("tokens", args[0]), nil, nil); err != nil {
				return err
			}
			id := args[0]
			if tid := auth.TokenID(id); tid != "" {
				id = tid // never print a secret back
			}
			return g.emit(map[string]string{"revoked": id}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "revoked token %s\n", id)
				return err
			})
		},
	}
}

// listAll follows next_cursor through every page of a list.
func listAll[T any](ctx context.Context, g *Globals, path string) ([]T, error) {
	t, err := g.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return listPages[T](ctx, t, path)
}

// listPages follows next_cursor through every page of a list from t.
func listPages[T any](ctx context.Context, t *target, path string) ([]T, error) {
	out := []T{} // an empty list is [] in --output json, not null
	cursor := ""
	for {
		p := path
		if cursor != "" {
			p += sepFor(p) + "cursor=" + url.QueryEscape(cursor)
		}
		var page api.Page[T]
		if err := t.client.Do(ctx, "GET", p, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return out, nil
		}
	}
}

func sepFor(path string) string {
	for _, c := range path {
		if c == '?' {
			return "&"
		}
	}
	return "?"
}

func scopeList(ps []auth.Permission) string {
	if len(ps) == 0 {
		return "*"
	}
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ","
		}
		s += string(p)
	}
	return s
}

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}
