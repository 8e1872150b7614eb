package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/scan/report"
	"github.com/phoenixvc/phoenix/internal/scan/sbom"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newCheckSBOMCmd(g *Globals, o *checkOptions) *cobra.Command {
	var name, ver string
	cmd := &cobra.Command{
		Use:   "sbom [DIR]",
		Short: "Write a CycloneDX or SPDX JSON SBOM of the project's dependencies",
		Long: `Write an SBOM of the packages locked in DIR: CycloneDX 1.6 JSON, or SPDX 2.3
JSON when checks.sbom.format is spdx. Like the other gates it fails closed:
when DIR has no lockfile or one cannot be read, it writes nothing and exits 1.`,
		Example: "  phoenix check sbom --out sbom.cdx.json\n  phoenix check sbom apps/web --version v1.4.2",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := o.input(g, cmd, args)
			if err != nil {
				return err
			}
			for _, n := range in.notes {
				fmt.Fprintln(g.Stderr, "note:", n)
			}
			bom, problems, err := generateSBOM(cmd.Context(), in, sbom.Options{Name: name, Version: ver})
			if err != nil {
				return err
			}
			for _, n := range sbom.Notes(bom) {
				fmt.Fprintln(g.Stderr, "note:", n)
			}
			for _, w := range sbom.Warnings(bom) {
				fmt.Fprintln(g.Stderr, "warning:", w)
			}
			if len(problems) > 0 { // an SBOM missing packages must not pass for a whole one
				for _, p := range problems {
					fmt.Fprintln(g.Stderr, "problem:", p.String())
				}
				return usererr.New(usererr.Failed, "sbom gate failed: %d problem(s) reading the lockfiles; no SBOM written", len(problems))
			}
			_, write := sbom.WriterFor(in.cfg.Checks.SBOM.Format)
			return o.writeSBOM(g, func(w io.Writer) error { return write(w, bom) })
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "", "file to write (default standard output)")
	cmd.Flags().StringVar(&name, "name", "", "application name (default: package.json name)")
	cmd.Flags().StringVar(&ver, "version", "", "application version, e.g. v1.4.2")
	return cmd
}

// generateSBOM makes the SBOM of in's lockfiles, stamped with
// SOURCE_DATE_EPOCH when set (a reproducible SBOM); problems are
// lockfiles it could not read.
func generateSBOM(ctx context.Context, in *checkInput, opts sbom.Options) (*cdx.BOM, []report.Problem, error) {
	now, err := createdFromEnv()
	if err != nil {
		return nil, nil, err
	}
	opts.Now = now
	return sbom.Generate(ctx, in.dir, opts)
}

// writeSBOM writes with write to --out, or to standard output.
func (o *checkOptions) writeSBOM(g *Globals, write func(io.Writer) error) error {
	if o.out == "" || o.out == "-" {
		return write(g.Stdout)
	}
	f, err := os.Create(o.out)
	if err != nil {
		return usererr.Wrap(usererr.Usage, err, err.Error())
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
