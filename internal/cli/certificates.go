package cli

import (
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
			cs, err := listAll[api.Certificate](cmd.Context(), g, client.Path("certificates"))
			if err != nil {
				return err
			}
			return g.emit(cs, func(w io.Writer) error { return certificatesTable(w, cs) })
		},
	}
}

func certificatesTable(w io.Writer, cs []api.Certificate) error {
	if len(cs) == 0 {
		_, err := io.WriteString(w, "no certificates: the edge serves plain HTTP (see --edge-tls-cert and --acme)\n")
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
