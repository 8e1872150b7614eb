package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newUserCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add users, grant roles, set passwords",
		Long: `Users sign in to the dashboard with a password and own tokens. Roles are
admin, contributor, approver and viewer, plus any defined in <data>/roles.yaml.
A role is granted everywhere, or only in one environment (--env) or project
(--project): e.g. contributor in staging and viewer in production.`,
		Example: `  phoenix user add alice --role contributor --env staging
  phoenix user grant alice viewer --env production
  phoenix user grant alice contributor --env staging --revoke
  phoenix user passwd alice
  phoenix user email alice alice@example.com
  phoenix user disable alice
  phoenix user list`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newUserAddCmd(g), newUserListCmd(g), newUserGrantCmd(g), newUserPasswdCmd(g), newUserRolesCmd(g),
		newUserEmailCmd(g), newUserDisableCmd(g, true), newUserDisableCmd(g, false))
	return cmd
}

type grantFlags struct{ project, env string }

func (gf *grantFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&gf.env, "env", "e", "", "only in this environment")
	cmd.Flags().StringVarP(&gf.project, "project", "p", "", "only in this project")
}

func newUserAddCmd(g *Globals) *cobra.Command {
	var roles []string
	var gf grantFlags
	var withPassword bool
	var email string
	cmd := &cobra.Command{
		Use: "add NAME",
		Example: `  phoenix user add alice --role contributor --env staging
  phoenix user add bob --role viewer --email bob@example.com --password`,
		Short: "Add a user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.UserRequest{Name: args[0], Email: email}
			for _, r := range roles {
				req.Grants = append(req.Grants, auth.Grant{Role: r, Project: gf.project, Environment: gf.env})
			}
			if withPassword {
				pw, err := readPassword(g, "password for "+args[0]+": ")
				if err != nil {
					return err
				}
				req.Password = pw
			}
			return userCall(cmd.Context(), g, "POST", client.Path("users"), req)
		},
	}
	cmd.Flags().StringSliceVar(&roles, "role", nil, "role(s) to grant")
	cmd.Flags().BoolVar(&withPassword, "password", false, "set a password for dashboard login (read from the terminal or stdin)")
	cmd.Flags().StringVar(&email, "email", "", "the user's email: single sign-on links the identity with this verified email")
	gf.register(cmd)
	return cmd
}

func userCall(ctx context.Context, g *Globals, method, path string, body any) error {
	var u auth.User
	if err := g.do(ctx, method, path, body, &u); err != nil {
		return err
	}
	return g.emit(u, func(w io.Writer) error { return userTable(w, []auth.User{u}) })
}

func userTable(w io.Writer, us []auth.User) error {
	tb := newTable(w, "user", "grants", "password", "created")
	for _, u := range us {
		gs := make([]string, len(u.Grants))
		for i, gr := range u.Grants {
			gs[i] = gr.String()
		}
		pw := "-"
		if u.HasPassword {
			pw = "set"
		}
		name := u.Name
		if u.Disabled {
			name += " (disabled)"
		}
		tb.row(name, dash(strings.Join(gs, "; ")), pw, u.CreatedAt.Local().Format("2006-01-02"))
	}
	return tb.flush()
}

func newUserListCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use: "list",
		Example: `  phoenix user list
  phoenix user list -o json`,
		Short: "List users and their grants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			us, err := listAll[auth.User](cmd.Context(), g, client.Path("users"))
			if err != nil {
				return err
			}
			return g.emit(us, func(w io.Writer) error { return userTable(w, us) })
		},
	}
}

func newUserGrantCmd(g *Globals) *cobra.Command {
	var gf grantFlags
	var revoke bool
	cmd := &cobra.Command{
		Use: "grant NAME ROLE",
		Example: `  phoenix user grant alice approver --env production
  phoenix user grant alice contributor --env staging --revoke`,
		Short: "Grant a role (everywhere, or in one --env / --project); --revoke takes it back",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := g.connect(ctx)
			if err != nil {
				return err
			}
			defer t.close()
			var u auth.User
			if err := t.client.Do(ctx, "GET", client.Path("users", args[0]), nil, &u); err != nil {
				return err
			}
			gr := auth.Grant{Role: args[1], Project: gf.project, Environment: gf.env}
			grants := slices.DeleteFunc(u.Grants, func(x auth.Grant) bool { return x == gr })
			if !revoke {
				grants = append(grants, gr)
			}
			// A fresh value for the answer: decoding into u again would reuse
			// the elements of u.Grants, and a grant the answer sends without a
			// project or environment (omitempty) would keep the old one's.
			var out auth.User
			if err := t.client.Do(ctx, "PUT", client.Path("users", args[0], "grants"), api.GrantsRequest{Grants: grants}, &out); err != nil {
				return err
			}
			return g.emit(out, func(w io.Writer) error { return userTable(w, []auth.User{out}) })
		},
	}
	gf.register(cmd)
	cmd.Flags().BoolVar(&revoke, "revoke", false, "take the grant back")
	return cmd
}

func newUserPasswdCmd(g *Globals) *cobra.Command {
	var current bool
	cmd := &cobra.Command{
		Use: "passwd NAME",
		Example: `  phoenix user passwd alice                          # asks on the terminal
  printf '%s\n' "$PW" | phoenix user passwd alice     # from a script`,
		Short: "Set a user's dashboard password (from the terminal, or stdin lines)",
		Long: `Set a password. On a terminal it is read without echo; otherwise the first line
of stdin is the new password and, with --current, the second line is the
current one (needed to change your own password once set, unless you are an
admin).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.PasswordRequest{}
			var err error
			if req.Password, err = readPassword(g, "new password: "); err != nil {
				return err
			}
			if current {
				if req.Current, err = readPassword(g, "current password: "); err != nil {
					return err
				}
			}
			if err := g.do(cmd.Context(), "PUT", client.Path("users", args[0], "password"), req, nil); err != nil {
				return err
			}
			return g.emit(map[string]string{"user": args[0], "password": "set"}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "password of %s set; their sessions were ended\n", args[0])
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&current, "current", false, "also read the current password")
	return cmd
}

// readPassword reads a password without echo from a terminal, else one
// line of stdin. It is never printed or logged.
func readPassword(g *Globals, prompt string) (string, error) {
	if f, ok := g.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(g.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.Stderr)
		return string(b), err
	}
	if g.stdinLines == nil {
		g.stdinLines = bufio.NewReader(g.Stdin)
	}
	line, err := g.stdinLines.ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usererr.New(usererr.Usage, "no password on stdin").WithHint("pipe it in: printf '%%s\\n' \"$PW\" | phoenix user passwd NAME")
	}
	if err != nil && err != io.EOF {
		return "", err
	}
	return line, nil
}

func newUserRolesCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use: "roles",
		Example: `  phoenix user roles
  phoenix user roles -o json`,
		Short: "List the roles the server knows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rs, err := listAll[auth.Role](cmd.Context(), g, client.Path("roles"))
			if err != nil {
				return err
			}
			return g.emit(rs, func(w io.Writer) error {
				tb := newTable(w, "role", "permissions", "description")
				for _, r := range rs {
					tb.row(r.Name, scopeList(r.Permissions), dash(r.Description))
				}
				return tb.flush()
			})
		},
	}
}

func newUserEmailCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use: "email NAME [ADDRESS]",
		Example: `  phoenix user email alice alice@example.com
  phoenix user email alice                           # clears it`,
		Short: "Set a user's email (none clears it); single sign-on links the identity with this verified email",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.EmailRequest{}
			if len(args) == 2 {
				req.Email = args[1]
			}
			return userCall(cmd.Context(), g, "PUT", client.Path("users", args[0], "email"), req)
		},
	}
}

func newUserDisableCmd(g *Globals, disable bool) *cobra.Command {
	use, short := "enable NAME", "Enable a disabled user again (their tokens work again; they sign in anew)"
	example := "  phoenix user enable alice"
	if disable {
		use, short = "disable NAME", "Disable a user: their sessions end, sign-ins and tokens are refused (the last admin stays)"
		example = "  phoenix user disable alice"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return userCall(cmd.Context(), g, "PUT", client.Path("users", args[0], "disabled"), api.DisabledRequest{Disabled: disable})
		},
	}
}
