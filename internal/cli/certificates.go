package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/client"
)

func newCertificatesCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:     "certificates",
		Aliases: []string{"certs"},
		Short:   "List the TLS certificates the edge holds, soonest expiry first",
		Long: `List the edge's TLS certificates: the one from --edge-tls-cert and those
obtained by ACME (--acme, kept in the state store and shared by replicas),
with the names each covers, its issuer, validity, days left and status
(ok, expiring within --cert-alert-days of the server, expired), and the
last failure to obtain or renew it since the server started. A wildcard
certificate lists *.example.com; a name managed through DNS-01, or being
ordered at its first HTTPS request, that has no certificate yet is listed
as pending with the last failure; a certificate none of whose names is
served any more (a domain taken off, an environment deleted) is listed as
unused: it is not renewed and not alerted on. Private keys are never
shown. Needs the read permission.`,
		Example: "  phoenix certificates\n  phoenix certificates -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer t.close()
			cs, err := listPages[api.Certificate](cmd.Context(), t, client.Path("certificates"))
			if err != nil {
				return err
			}
			if len(cs) == 0 && t.inProcess && g.Output == "json" {
				fmt.Fprintln(g.Stderr, noServerCerts)
			}
			return g.emit(cs, func(w io.Writer) error { return certificatesTable(w, cs, t.inProcess) })
		},
	}
}

// noServerCerts says why a listing without a running server is empty: the
// certificates are what a running edge serves, from its flags (the
// command's own in-process server has none), even when the state store
// holds ACME certificates.
const noServerCerts = "no certificates listed: no server is running on this data dir, and only a running server's edge " +
	"holds certificates (--edge-tls-cert, --acme); start phoenix server, or ask one with --server URL"

func certificatesTable(w io.Writer, cs []api.Certificate, inProcess bool) error {
	if len(cs) == 0 {
		msg := "no certificates: the edge serves plain HTTP (see --edge-tls-cert and --acme)"
		if inProcess {
			msg = noServerCerts
		}
		_, err := fmt.Fprintln(w, msg)
		return err
	}
	tb := newTable(w, "names", "source", "issuer", "not before", "not after", "days left", "status", "last error")
	for _, c := range cs {
		if c.Pending { // managed through DNS-01 or being ordered, no certificate yet
			tb.row(strings.Join(c.Names, ","), c.Source, "-", "-", "-", "-", c.Status, dash(oneLine(c.LastError)))
			continue
		}
		tb.row(strings.Join(c.Names, ","), c.Source, dash(issuerName(c.Issuer)), c.NotBefore.Format("2006-01-02"),
			c.NotAfter.Format("2006-01-02 15:04Z"), c.DaysLeft, c.Status, dash(oneLine(c.LastError)))
	}
	return tb.flush()
}

// issuerName shortens a distinguished name to its common name.
func issuerName(dn string) string {
	for _, part := range strings.Split(dn, ",") {
		if cn, ok := strings.CutPrefix(part, "CN="); ok {
			return cn
		}
	}
	return dn
}

// oneLine keeps a table cell on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
