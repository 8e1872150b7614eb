// Command scanbench measures the security gates: an audit of a synthetic
// 2,000-package lockfile against a 100,000-advisory database (built by
// expanding the real advisories in ../shared/data/osv-npm with varied
// package names), and the secret scan's throughput over generated source
// text. See run.sh and RESULTS-scan.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/scan/audit"
	"github.com/phoenixvc/phoenix/internal/scan/osv"
	"github.com/phoenixvc/phoenix/internal/scan/secret"
)

func main() {
	real := flag.String("real", "../../../shared/data/osv-npm", "folder of real OSV advisories")
	work := flag.String("work", "", "scratch folder (default: a temp dir)")
	advisories := flag.Int("advisories", 100000, "advisories to synthesize")
	packages := flag.Int("packages", 2000, "packages in the lockfile")
	mb := flag.Int("mb", 100, "MiB of source text for the secret scan")
	only := flag.String("only", "", "run only \"audit\" or \"secrets\"")
	flag.Parse()
	if *work == "" {
		d, err := os.MkdirTemp("", "scanbench-")
		check(err)
		defer os.RemoveAll(d)
		*work = d
	}
	ctx := context.Background()
	if *only != "secrets" {
		benchAudit(ctx, *real, *work, *advisories, *packages)
	}
	if *only != "audit" {
		benchSecrets(ctx, *work, *mb, "\n")
		benchSecrets(ctx, *work, *mb, ";") // minified: one line a file, as bundles and source maps are
	}
}

func benchAudit(ctx context.Context, real, work string, nAdv, nPkg int) {
	src := filepath.Join(work, "osv")
	names := synthAdvisories(real, src, nAdv)
	proj := filepath.Join(work, "proj")
	synthLockfile(proj, names, nPkg)
	dbDir := filepath.Join(work, "db")
	t0 := time.Now()
	meta, err := osv.Import(ctx, src, dbDir, time.Now())
	check(err)
	fmt.Printf("import: %d advisories, %d packages in %v\n", meta.Advisories, meta.Packages, time.Since(t0).Round(time.Millisecond))
	for i := 0; i < 3; i++ {
		t1 := time.Now()
		db, err := osv.Open(dbDir)
		check(err)
		opened := time.Since(t1)
		r, err := audit.Run(ctx, proj, db, audit.Options{})
		check(err)
		db.Close()
		fmt.Printf("audit run %d: open %v, total %v: %d packages, %d findings, %d problems\n", i+1,
			opened.Round(time.Microsecond), time.Since(t1).Round(time.Millisecond), r.Scanned, len(r.Findings), len(r.Problems))
	}
}

// synthAdvisories writes nAdv advisories: each real one re-issued under
// new ids for varied package names (name-<k>), keeping its ranges.
func synthAdvisories(real, dst string, nAdv int) []string {
	check(os.MkdirAll(dst, 0o755))
	files, err := filepath.Glob(filepath.Join(real, "*.json"))
	check(err)
	var base []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		check(err)
		var m map[string]any
		check(json.Unmarshal(data, &m))
		base = append(base, m)
	}
	var names []string
	perName := 5
	for i := 0; i < nAdv; i++ {
		m := base[i%len(base)]
		name := fmt.Sprintf("pkg-%06d", i/perName)
		if i%perName == 0 {
			names = append(names, name)
		}
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		out["id"] = fmt.Sprintf("SYN-%07d", i)
		var aff []any
		for _, a := range m["affected"].([]any) {
			am := map[string]any{}
			for k, v := range a.(map[string]any) {
				am[k] = v
			}
			am["package"] = map[string]any{"ecosystem": "npm", "name": name}
			aff = append(aff, am)
		}
		out["affected"] = aff
		data, _ := json.Marshal(out)
		check(os.WriteFile(filepath.Join(dst, out["id"].(string)+".json"), data, 0o644))
	}
	return names
}

// synthLockfile writes a package-lock v3 with nPkg packages drawn from
// names (versions spread so some are affected), each depending on the next.
func synthLockfile(dir string, names []string, nPkg int) {
	check(os.MkdirAll(dir, 0o755))
	rng := rand.New(rand.NewPCG(7, 8))
	pk := map[string]any{}
	rootDeps := map[string]string{}
	for i := 0; i < nPkg; i++ {
		name := names[rng.IntN(len(names))]
		for pk["node_modules/"+name] != nil {
			name = names[rng.IntN(len(names))]
		}
		v := fmt.Sprintf("%d.%d.%d", rng.IntN(8), rng.IntN(20), rng.IntN(30))
		e := map[string]any{"version": v, "resolved": "https://registry.npmjs.org/" + name + "/-/" + name + "-" + v + ".tgz", "license": "MIT"}
		if i%4 != 0 {
			e["dev"] = i%7 == 0
		}
		pk["node_modules/"+name] = e
		if i < 50 {
			rootDeps[name] = "^" + v
		}
	}
	pk[""] = map[string]any{"name": "bench", "dependencies": rootDeps}
	// chain the rest under the direct ones so paths are non-trivial
	var keys []string
	for k := range pk {
		if k != "" {
			keys = append(keys, k)
		}
	}
	for i, k := range keys {
		if i+1 < len(keys) {
			pk[k].(map[string]any)["dependencies"] = map[string]string{strings.TrimPrefix(keys[i+1], "node_modules/"): "*"}
		}
	}
	data, _ := json.MarshalIndent(map[string]any{"name": "bench", "lockfileVersion": 3, "packages": pk}, "", "  ")
	check(os.WriteFile(filepath.Join(dir, "package-lock.json"), data, 0o644))
}

// benchSecrets writes mb MiB of JavaScript-like source in 1 MiB files
// with a few planted secrets, its statements ended by sep ("\n": source;
// ";": minified, one line a file), and measures secret.Run.
func benchSecrets(ctx context.Context, work string, mb int, sep string) {
	layout := map[string]string{"\n": "source", ";": "minified"}[sep]
	dir := filepath.Join(work, layout)
	check(os.MkdirAll(dir, 0o755))
	rng := rand.New(rand.NewPCG(9, 10))
	lines := []string{
		"import { useState, useEffect } from 'react';",
		"export function handleRequest(req, res) { const user = req.session.user; if (!user) return res.status(401).end(); }",
		"  const config = { timeout: 3000, retries: 3, baseUrl: process.env.API_URL, headers: { 'Content-Type': 'application/json' } };",
		"// Fetch the list of items and render them in the table; keep the sort key stable across renders.",
		"  for (let i = 0; i < items.length; i++) { total += items[i].price * items[i].quantity; }",
		"const token = await getAccessToken({ scopes: ['api://phoenix/.default'] });",
		"  if (error) { logger.warn('request failed', { status: error.status, path: req.path }); throw error; }",
		"export default { name: 'checkout', data() { return { cart: [], loading: false, password: '' }; } };",
	}
	total := 0
	for f := 0; total < mb<<20; f++ {
		var b strings.Builder
		for b.Len() < 1<<20 {
			b.WriteString(lines[rng.IntN(len(lines))])
			b.WriteString(sep)
		}
		if f%10 == 0 {
			b.WriteString("const id = \"AKIA" + randUpper(rng, 16) + "\";" + sep)
		}
		check(os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d.js", f)), []byte(b.String()), 0o644))
		total += b.Len()
	}
	for i := 0; i < 2; i++ {
		t0 := time.Now()
		r, err := secret.Run(ctx, dir, secret.Options{})
		check(err)
		d := time.Since(t0)
		fmt.Printf("secrets (%s) run %d: %d files, %.1f MiB in %v = %.0f MiB/s, %d findings\n", layout, i+1, r.Scanned,
			float64(r.Stats["bytes"])/(1<<20), d.Round(time.Millisecond), float64(r.Stats["bytes"])/(1<<20)/d.Seconds(), len(r.Findings))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanbench:", err)
		os.Exit(1)
	}
}

func randUpper(rng *rand.Rand, n int) string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[rng.IntN(len(a))]
	}
	return string(b)
}
