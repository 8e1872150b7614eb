package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newValidateCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [PATH]",
		Short: "Check phoenix.yaml and staticwebapp.config.json, listing every problem",
		Long: `Check a project's phoenix.yaml and its staticwebapp.config.json (in the app
folder, public/ or the build output) the way the server and Azure would, and
list every problem at once with file:line:col, the field and a hint.
PATH is a phoenix.yaml, a staticwebapp.config.json, or a folder holding them.
Exits 2 when there are errors; warnings alone exit 0.`,
		Example: `  phoenix validate
  phoenix validate apps/web/phoenix.yaml
  phoenix validate dist/staticwebapp.config.json -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			return runValidate(cmd.Context(), g, path)
		},
	}
}

// checked is one validated file.
type checked struct {
	File     string   `json:"file"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
}

func runValidate(_ context.Context, g *Globals, path string) error {
	files, err := validationTargets(path)
	if err != nil {
		return err
	}
	var results []checked
	failed := false
	for _, f := range files {
		c := validateFile(f)
		failed = failed || len(c.Errors) > 0
		results = append(results, c)
	}
	warnStaleCopies(results)
	err = g.emit(results, func(w io.Writer) error { return printChecked(w, results) })
	if err != nil {
		return err
	}
	if failed {
		return usererr.New(usererr.Usage, "validation failed")
	}
	return nil
}

// validationTargets finds what to check under path.
func validationTargets(path string) ([]string, error) {
	if err := pathArg("file or folder", path); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, usererr.New(usererr.Usage, "%v", err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	var out []string
	yml := filepath.Join(path, "phoenix.yaml")
	if _, err := os.Stat(yml); err == nil {
		out = append(out, yml)
	}
	appDir := path
	if cfg, err := config.Load(yml); err == nil && cfg.Build.App != "" {
		appDir = filepath.Join(path, cfg.Build.App)
	}
	out = append(out, swaConfigsIn(appDir, "dist", "build")...)
	if len(out) == 0 {
		return nil, usererr.New(usererr.Usage, "nothing to validate in %s: no phoenix.yaml or %s", path, swa.FileName).
			WithHint("run 'phoenix init' to write a phoenix.yaml")
	}
	return out, nil
}

// swaConfigsIn lists the staticwebapp.config.json files of the app in
// appDir that exist: its sources (the app's folder and public/, which the
// build copies) and those in the build outputs named.
func swaConfigsIn(appDir string, outputs ...string) []string {
	var out []string
	for _, d := range append([]string{"", "public"}, outputs...) {
		p := filepath.Join(appDir, d, swa.FileName)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func validateFile(path string) checked {
	c := checked{File: path, Errors: []string{}, Warnings: []string{}}
	var err error
	if filepath.Base(path) == swa.FileName {
		var cfg *swa.Config
		if cfg, err = swa.Load(path); err == nil {
			for _, w := range cfg.Warnings() {
				c.Warnings = append(c.Warnings, w.String())
			}
			c.Warnings = append(c.Warnings, folderWarnings(path, cfg)...)
		}
	} else {
		var cfg *config.Config
		if cfg, err = config.Load(path); err == nil {
			for _, w := range cfg.Warnings {
				c.Warnings = append(c.Warnings, w.String())
			}
		}
	}
	if err != nil {
		collect(err, &c)
	}
	return c
}

// collect sorts a loader's problems into errors and warnings.
func collect(err error, c *checked) {
	var ps config.Problems
	var sp swa.Problems
	switch {
	case errors.As(err, &ps):
		for _, p := range ps {
			if p.Warning {
				c.Warnings = append(c.Warnings, p.String())
			} else {
				c.Errors = append(c.Errors, p.String())
			}
		}
	case errors.As(err, &sp):
		for _, p := range sp {
			c.Errors = append(c.Errors, p.String())
		}
	default:
		c.Errors = append(c.Errors, err.Error())
	}
}

func printChecked(w io.Writer, results []checked) error {
	for _, c := range results {
		for _, e := range c.Errors {
			fmt.Fprintln(w, e)
		}
		for _, e := range c.Warnings {
			fmt.Fprintln(w, e)
		}
		status := "ok"
		if len(c.Errors) > 0 {
			status = fmt.Sprintf("%d error(s)", len(c.Errors))
		}
		if len(c.Warnings) > 0 {
			status += fmt.Sprintf(", %d warning(s)", len(c.Warnings))
		}
		fmt.Fprintf(w, "%s: %s\n", c.File, status)
	}
	return nil
}

// warnStaleCopies warns of a staticwebapp.config.json in a build output
// (dist/, build/) that differs from the one in the app folder or public/
// checked beside it: most likely an earlier build's copy, which the next
// build replaces, so its "ok" says nothing of the file that will ship.
func warnStaleCopies(results []checked) {
	var source string
	for _, c := range results {
		if filepath.Base(c.File) == swa.FileName && !inBuildOutput(c.File) {
			source = c.File
		}
	}
	if source == "" {
		return
	}
	want, err := os.ReadFile(source)
	if err != nil {
		return
	}
	for i, c := range results {
		if filepath.Base(c.File) != swa.FileName || !inBuildOutput(c.File) {
			continue
		}
		if got, err := os.ReadFile(c.File); err == nil && !bytes.Equal(got, want) {
			results[i].Warnings = append(results[i].Warnings, fmt.Sprintf("%s: differs from %s: a copy an earlier build left? "+
				"the next build writes the one a release ships", c.File, source))
		}
	}
}

// inBuildOutput reports whether file is in a build output folder that
// validationTargets looks in (dist/, build/).
func inBuildOutput(file string) bool {
	d := filepath.Base(filepath.Dir(file))
	return d == "dist" || d == "build"
}
